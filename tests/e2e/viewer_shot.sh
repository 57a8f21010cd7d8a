#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Takes a picture of the daemon's display with a real viewer, as a PPM file.
#   viewer_shot.sh novnc   PORT OUT.ppm WORKDIR  (noVNC's vnc_lite.html in headless Chromium)
#   viewer_shot.sh novnc-wss PORT OUT.ppm WORKDIR (the same over https and wss, with
#                                                  WORKDIR/cert.pem and key.pem)
#   viewer_shot.sh snapshot PORT OUT.ppm WORKDIR (vncsnapshot)
#   viewer_shot.sh tiger   PORT OUT.ppm WORKDIR  (TigerVNC's vncviewer under Xvfb, xwd)
#   viewer_shot.sh tiger-x509plain PORT OUT.ppm WORKDIR (the same over VeNCrypt, trusting
#   viewer_shot.sh tiger-x509vnc   PORT OUT.ppm WORKDIR  WORKDIR/cert.pem; the credentials
#                                                       come in VNC_USERNAME, VNC_PASSWORD)
#   viewer_shot.sh gvnc-x509plain  PORT OUT.ppm WORKDIR (gtk-vnc's gvncviewer, the same way;
#                                                       xdotool types the login)
# One picture, as soon as the viewer is connected: a viewer may not have drawn
# everything yet, so the caller takes another until it shows what it should.
# Exits 77 when a program it needs is missing, naming the package.
set -u
kind=$1 port=$2 out=$3 work=$4

need() {
	command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 missing (package $2)"; exit 77; }
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
need convert imagemagick

case $kind in
novnc | novnc-wss)
	need chromium chromium
	need python3 python3
	[ -f /usr/share/novnc/vnc_lite.html ] || { echo "SKIP: noVNC missing (package novnc)"; exit 77; }
	http=$(free_port)
	# vnc_lite.html picks wss exactly when the page itself came over https.
	scheme=http tls=
	if [ "$kind" = novnc-wss ]; then
		scheme=https tls=--ignore-certificate-errors
	fi
	python3 -u -c '
import functools, http.server, ssl, sys
port, root, scheme, work = sys.argv[1:]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), handler)
if scheme == "https":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(work + "/cert.pem", work + "/key.pem")
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
print("Serving", flush=True)
httpd.serve_forever()
' "$http" /usr/share/novnc "$scheme" "$work" >"$work/http.log" 2>&1 &
	server=$!
	trap 'kill $server 2>/dev/null' EXIT
	for _ in $(seq 100); do grep -q Serving "$work/http.log" && break; sleep 0.1; done
	# The page connects over a websocket to the daemon's own VNC port.
	# shellcheck disable=SC2086 # $tls is one flag or none
	timeout 60 chromium $tls --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$work/chromium" --window-size=900,700 --virtual-time-budget=5000 \
		--screenshot="$work/shot.png" \
		"$scheme://127.0.0.1:$http/vnc_lite.html?host=127.0.0.1&port=$port" \
		>"$work/chromium.log" 2>&1
	convert "$work/shot.png" "$out"
	;;
snapshot)
	need vncsnapshot vncsnapshot
	timeout 30 vncsnapshot -quiet -allowblank "127.0.0.1::$port" "$work/shot.jpg" \
		>"$work/vncsnapshot.log" 2>&1 || exit 1
	convert "$work/shot.jpg" "$out"
	;;
tiger | tiger-x509plain | tiger-x509vnc | gvnc-x509plain)
	need Xvfb xvfb
	need xwd x11-apps
	case $kind in
	gvnc*) need gvncviewer gvncviewer; need xdotool xdotool ;;
	*) need vncviewer tigervnc-viewer ;;
	esac
	# Xvfb picks a free display and writes its number to fd 3.
	Xvfb -displayfd 3 -screen 0 900x700x24 -nolisten tcp 3>"$work/display" \
		>"$work/xvfb.log" 2>&1 &
	xvfb=$!
	viewer=
	trap 'kill $viewer $xvfb 2>/dev/null' EXIT
	for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
	display=:$(cat "$work/display")
	# HOME: the viewers keep settings and trusted certificates there.
	case $kind in
	gvnc-x509plain)
		# gtk-vnc trusts the CA in ~/.pki/CA/cacert.pem, ~ taken from the
		# password database (not $HOME): in a mount namespace of its own, the
		# work directory is that home. It takes host:display (port 5900 +
		# display), and asks for the login in a dialog: typed in.
		need unshare util-linux
		mkdir -p "$work/.pki/CA"
		cp "$work/cert.pem" "$work/.pki/CA/cacert.pem"
		# shellcheck disable=SC2016 # expanded by the inner shell, in the namespace
		DISPLAY=$display unshare --mount --map-root-user sh -c \
			'mount --bind "$1" "$(getent passwd "$(id -u)" | cut -d: -f6)" &&
			exec gvncviewer "127.0.0.1:$2"' sh "$work" $((port - 5900)) \
			>"$work/viewer.log" 2>&1 &
		viewer=$!
		DISPLAY=$display timeout 20 xdotool search --sync --name "Authentication required" \
			windowfocus --sync >/dev/null || exit 1
		DISPLAY=$display xdotool type --delay 20 "$VNC_USERNAME"
		DISPLAY=$display xdotool key Tab
		DISPLAY=$display xdotool type --delay 20 "$VNC_PASSWORD"
		DISPLAY=$display xdotool key Return
		# Logged in and set up.
		for _ in $(seq 300); do
			grep -q 'Connection initialized' "$work/viewer.log" && break
			sleep 0.1
		done
		;;
	*)
		security=
		case $kind in
		tiger-x509plain) security="-SecurityTypes X509Plain -X509CA $work/cert.pem" ;;
		tiger-x509vnc) security="-SecurityTypes X509Vnc -X509CA $work/cert.pem" ;;
		esac
		# shellcheck disable=SC2086 # $security is several flags or none
		HOME=$work DISPLAY=$display vncviewer -Shared -ViewOnly $security \
			"127.0.0.1::$port" >"$work/viewer.log" 2>&1 &
		viewer=$!
		# Connected and set up.
		for _ in $(seq 300); do
			grep -q 'Using pixel format' "$work/viewer.log" && break
			sleep 0.1
		done
		;;
	esac
	DISPLAY=$display xwd -root -silent >"$work/shot.xwd" || exit 1
	convert "xwd:$work/shot.xwd" "$out"
	;;
*)
	echo "unknown viewer $kind" >&2
	exit 2
	;;
esac
