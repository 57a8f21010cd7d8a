// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The EGL import method: loading EGL at run time, choosing the GPU, and one
 * EGL image and texture per dmabuf. What QEMU's egl-headless display does
 * for GVT-g (ui/egl-helpers.c: egl_dmabuf_import_texture), with the image
 * kept for the cached id instead of per frame.
 */
#include "import_egl.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drm_formats.h"
#include "import_egl_api.h"
#include "log.h"

struct egl_importer {
	struct import_method method;
	char mdev_uuid[64];
	bool tried;               /* EGL set up (or failed to) on the first map */
	int setup_error;          /* -errno of the set-up; 0 once ready */
	char unavailable[256];    /* why EGL cannot be used */
	struct egl_api api;
	EGLDisplay display;
	EGLContext context;
	bool has_modifiers;       /* EGL_EXT_image_dma_buf_import_modifiers */
	bool software;            /* llvmpipe or softpipe: dmabufs are read through a CPU mapping */
	struct egl_render *render;
	char refusal[256];        /* the last buffer refusal: plane.c keeps a pointer to it */
	uint64_t bytes_read;
};

/* One imported dmabuf: released with its fd (plane.c's cached_buffer_release). */
struct egl_buffer {
	struct egl_importer *egl;
	EGLImageKHR image;
	GLuint texture;
	uint32_t texture_width;      /* the layout's width, rounded up to whole 4:2:2 pairs */
	struct pixel_layout layout;
	enum egl_sample_mode mode;
};

/*
 * The fourcc each plane format is imported as. C8 has no GL format (its
 * palette is not in the plane): its bytes are imported as R8, shown as the
 * same gray ramp as the CPU path.
 */
static const struct {
	uint32_t fourcc, import_fourcc;
	enum egl_sample_mode mode;
} formats[] = {
	{ DRM_FORMAT_XRGB8888, DRM_FORMAT_XRGB8888, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_ARGB8888, DRM_FORMAT_ARGB8888, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_XBGR8888, DRM_FORMAT_XBGR8888, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_ABGR8888, DRM_FORMAT_ABGR8888, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_RGB565, DRM_FORMAT_RGB565, EGL_SAMPLE_RGB565 },
	{ DRM_FORMAT_XRGB2101010, DRM_FORMAT_XRGB2101010, EGL_SAMPLE_TEN_BIT },
	{ DRM_FORMAT_XBGR2101010, DRM_FORMAT_XBGR2101010, EGL_SAMPLE_TEN_BIT },
	{ DRM_FORMAT_YUYV, DRM_FORMAT_YUYV, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_UYVY, DRM_FORMAT_UYVY, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_YVYU, DRM_FORMAT_YVYU, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_VYUY, DRM_FORMAT_VYUY, EGL_SAMPLE_COPY },
	{ DRM_FORMAT_C8, DRM_FORMAT_R8, EGL_SAMPLE_GRAY },
};

static bool has_extension(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* Never dlclose'd: Mesa and libglvnd register exit handlers that must stay mapped. */
static int load_api(struct egl_importer *egl)
{
	struct egl_api *api = &egl->api;
	void *libegl = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
	void *libgles = libegl ? dlopen("libGLESv2.so.2", RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!libgles) {
		snprintf(egl->unavailable, sizeof(egl->unavailable), "cannot load EGL/GLES: %s",
			 dlerror());
		return -ENOENT;
	}
	PFNEGLGETPROCADDRESSPROC get_proc = (PFNEGLGETPROCADDRESSPROC)dlsym(libegl, "eglGetProcAddress");
	const char *missing = get_proc ? NULL : "eglGetProcAddress";
#define LOAD_FROM(lib, type, name) \
	if (!missing && !(api->name = (type)dlsym(lib, #name))) \
		missing = #name;
#define LOAD_EGL(type, name) LOAD_FROM(libegl, type, name)
#define LOAD_GLES(type, name) LOAD_FROM(libgles, type, name)
#define LOAD_EXT(type, name) \
	if (!missing) \
		api->name = (type)get_proc(#name);
	EGL_API_CORE(LOAD_EGL)
	EGL_API_GLES(LOAD_GLES)
	EGL_API_EXT(LOAD_EXT)
#undef LOAD_FROM
#undef LOAD_EGL
#undef LOAD_GLES
#undef LOAD_EXT
	if (missing) {
		snprintf(egl->unavailable, sizeof(egl->unavailable),
			 "the EGL/GLES libraries lack %s", missing);
		return -ENOENT;
	}
	return 0;
}

/*
 * The render node of the GPU that owns the mdev: an mdev's sysfs node sits
 * under its parent device (/sys/devices/pci.../0000:00:02.0/UUID), and a
 * DRM driver lists its nodes in the parent's drm/ folder.
 */
static bool mdev_render_node(const char *uuid, char *out, size_t len)
{
	char link[PATH_MAX], parent[PATH_MAX];
	snprintf(link, sizeof(link), "/sys/bus/mdev/devices/%s", uuid);
	if (!uuid[0] || !realpath(link, parent))
		return false;
	char *slash = strrchr(parent, '/');
	if (!slash)
		return false;
	snprintf(slash, sizeof(parent) - (size_t)(slash - parent), "/drm");
	DIR *dir = opendir(parent);
	if (!dir)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(dir)))
		if (strncmp(e->d_name, "renderD", 7) == 0) {
			/* A name that does not fit is no node of ours: keep looking. */
			int n = snprintf(out, len, "/dev/dri/%.*s", (int)(len > 9 ? len - 9 : 0),
					 e->d_name);
			found = n > 0 && (size_t)n < len;
		}
	closedir(dir);
	return found;
}

/* The EGL device whose render node is node, through EGL_EXT_device_enumeration. */
static EGLDisplay device_display(struct egl_importer *egl, const char *node)
{
	struct egl_api *api = &egl->api;
	EGLDeviceEXT devices[16];
	EGLint n = 0;
	if (!api->eglQueryDevicesEXT || !api->eglQueryDeviceStringEXT ||
	    !api->eglQueryDevicesEXT(16, devices, &n))
		n = 0;
	for (EGLint i = 0; i < n; i++) {
		const char *file = api->eglQueryDeviceStringEXT(devices[i], EGL_DRM_RENDER_NODE_FILE_EXT);
		if (file && strcmp(file, node) == 0)
			return api->eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devices[i], NULL);
	}
	snprintf(egl->unavailable, sizeof(egl->unavailable),
		 "no EGL device drives %s, the render node of the mdev's parent GPU", node);
	return EGL_NO_DISPLAY;
}

static EGLDisplay choose_display(struct egl_importer *egl, char *where, size_t len)
{
	struct egl_api *api = &egl->api;
	char node[64];
	if (!api->eglGetPlatformDisplayEXT) {
		snprintf(egl->unavailable, sizeof(egl->unavailable),
			 "EGL lacks EGL_EXT_platform_base (eglGetPlatformDisplayEXT)");
		return EGL_NO_DISPLAY;
	}
	if (mdev_render_node(egl->mdev_uuid, node, sizeof(node))) {
		snprintf(where, len, "%s (the mdev's parent GPU)", node);
		return device_display(egl, node);
	}
	snprintf(where, len, "Mesa's surfaceless platform (the mdev's parent has no render node)");
	EGLDisplay display =
		api->eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
	if (display == EGL_NO_DISPLAY)
		snprintf(egl->unavailable, sizeof(egl->unavailable),
			 "EGL has no surfaceless platform (EGL_MESA_platform_surfaceless)");
	return display;
}

/*
 * llvmpipe compiles shaders to machine code at draw time. Where the process
 * may not make memory executable (systemd's MemoryDenyWriteExecute=yes,
 * PR_SET_MDWE) that JIT crashes on the first frame: find out first.
 */
static bool exec_gain_allowed(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return true; /* no sign of a ban: let the driver try */
	bool allowed = mprotect(p, page, PROT_READ | PROT_EXEC) == 0;
	munmap(p, page);
	return allowed;
}

static int check_jit(struct egl_importer *egl)
{
	const char *renderer = (const char *)egl->api.glGetString(GL_RENDERER);
	if (!renderer || !strstr(renderer, "llvmpipe") || exec_gain_allowed())
		return 0;
	snprintf(egl->unavailable, sizeof(egl->unavailable),
		 "llvmpipe (software rendering) compiles shaders at run time, and this process "
		 "may not make memory executable (MemoryDenyWriteExecute=yes): see mdev-vncd(8)");
	return -EPERM;
}

static int create_context(struct egl_importer *egl)
{
	struct egl_api *api = &egl->api;
	const char *exts = api->eglQueryString(egl->display, EGL_EXTENSIONS);
	const char *vendor = api->eglQueryString(egl->display, EGL_VENDOR);
	const char *need[] = { "EGL_EXT_image_dma_buf_import", "EGL_KHR_surfaceless_context",
			       "EGL_KHR_no_config_context" };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!has_extension(exts, need[i])) {
			snprintf(egl->unavailable, sizeof(egl->unavailable),
				 "EGL (%s) lacks %s (llvmpipe has it from Mesa 23)",
				 vendor ? vendor : "?", need[i]);
			return -ENOTSUP;
		}
	egl->has_modifiers = has_extension(exts, "EGL_EXT_image_dma_buf_import_modifiers") &&
			     api->eglQueryDmaBufModifiersEXT;
	if (!api->eglCreateImageKHR || !api->eglDestroyImageKHR ||
	    !api->glEGLImageTargetTexture2DOES) {
		snprintf(egl->unavailable, sizeof(egl->unavailable),
			 "EGL lacks the EGLImage entry points");
		return -ENOTSUP;
	}
	static const EGLint attribs[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE };
	api->eglBindAPI(EGL_OPENGL_ES_API);
	egl->context = api->eglCreateContext(egl->display, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT,
					     attribs);
	if (egl->context == EGL_NO_CONTEXT ||
	    !api->eglMakeCurrent(egl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, egl->context)) {
		snprintf(egl->unavailable, sizeof(egl->unavailable),
			 "cannot make a GLES 3 context current (EGL error 0x%04x)", api->eglGetError());
		return -ENOTSUP;
	}
	const char *renderer = (const char *)api->glGetString(GL_RENDERER);
	egl->software = renderer && (strstr(renderer, "llvmpipe") || strstr(renderer, "softpipe"));
	int ret = check_jit(egl);
	if (ret < 0)
		return ret;
	return egl_render_new(api, &egl->render, egl->unavailable, sizeof(egl->unavailable));
}

static int setup(struct egl_importer *egl)
{
	char where[160];
	int ret = load_api(egl);
	if (ret < 0)
		return ret;
	egl->display = choose_display(egl, where, sizeof(where));
	if (egl->display == EGL_NO_DISPLAY)
		return -ENODEV;
	EGLint major, minor;
	if (!egl->api.eglInitialize(egl->display, &major, &minor)) {
		snprintf(egl->unavailable, sizeof(egl->unavailable),
			 "eglInitialize on %.120s failed (EGL error 0x%04x)", where,
			 egl->api.eglGetError());
		egl->display = EGL_NO_DISPLAY;
		return -ENODEV;
	}
	ret = create_context(egl);
	if (ret < 0)
		return ret;
	log_info("GPU import ready: EGL %d.%d on %s, GL renderer %s%s", major, minor, where,
		 (const char *)egl->api.glGetString(GL_RENDERER),
		 egl->has_modifiers ? "" : " (no modifier import: linear buffers only)");
	return 0;
}

static int ensure_setup(struct egl_importer *egl)
{
	if (!egl->tried) {
		egl->tried = true;
		egl->setup_error = setup(egl);
		if (egl->setup_error < 0)
			log_warning("GPU import unavailable: %s; dmabufs the CPU may not map show a "
				    "placeholder", egl->unavailable);
	}
	return egl->setup_error;
}

static bool modifier_supported(struct egl_importer *egl, uint32_t fourcc, uint64_t modifier)
{
	EGLuint64KHR mods[64];
	EGLBoolean external[64];
	EGLint n = 0;
	if (!egl->api.eglQueryDmaBufModifiersEXT(egl->display, (EGLint)fourcc, 64, mods, external,
						 &n))
		return false;
	for (EGLint i = 0; i < n; i++)
		if (mods[i] == modifier)
			return true;
	/* A driver that lists no modifier for a format takes linear (the extension's words). */
	return n == 0 && modifier == DRM_FORMAT_MOD_LINEAR;
}

static int refuse(struct egl_importer *egl, const struct pixel_layout *l, const char *what,
		  const char **why)
{
	snprintf(egl->refusal, sizeof(egl->refusal), "the GPU (%s) %s %.4s modifier 0x%llx",
		 (const char *)egl->api.glGetString(GL_RENDERER), what, (const char *)&l->fourcc,
		 (unsigned long long)l->modifier);
	*why = egl->refusal;
	return -ENOTSUP;
}

/*
 * Mesa's software rasterizers read an imported dmabuf through a CPU mapping
 * of their own (the dri_sw winsys maps the whole fd, shared). When the
 * exporter refuses it, Mesa 25 still creates the image and samples from a
 * NULL mapping: the process crashes on the first frame. So the exporter is
 * asked first, with a mapping of the same extent that touches no page
 * (PROT_NONE reaches the exporter's mmap handler all the same).
 */
static int software_map_refused(struct egl_importer *egl, const struct import_request *req,
				const char **why)
{
	off_t end = lseek(req->fd, 0, SEEK_END);
	size_t size = end > 0 ? (size_t)end : req->size;
	void *probe = mmap(NULL, size, PROT_NONE, MAP_SHARED, req->fd, 0);
	if (probe != MAP_FAILED) {
		munmap(probe, size);
		return 0;
	}
	int err = errno;
	snprintf(egl->refusal, sizeof(egl->refusal),
		 "the GPU (%s) renders in software and needs a CPU mapping of the dmabuf, which "
		 "the exporter refused: %s", (const char *)egl->api.glGetString(GL_RENDERER),
		 strerror(err));
	*why = egl->refusal;
	return -err;
}

static EGLImageKHR create_image(struct egl_importer *egl, int fd, const struct pixel_layout *l,
				uint32_t import_fourcc, uint32_t width)
{
	EGLint attribs[32];
	int n = 0;
#define ATTR(k, v) (attribs[n++] = (k), attribs[n++] = (EGLint)(v))
	ATTR(EGL_WIDTH, width);
	ATTR(EGL_HEIGHT, l->height);
	ATTR(EGL_LINUX_DRM_FOURCC_EXT, import_fourcc);
	ATTR(EGL_DMA_BUF_PLANE0_FD_EXT, fd);
	ATTR(EGL_DMA_BUF_PLANE0_OFFSET_EXT, 0);
	ATTR(EGL_DMA_BUF_PLANE0_PITCH_EXT, l->stride);
	if (egl->has_modifiers) {
		ATTR(EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT, l->modifier & 0xffffffffu);
		ATTR(EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT, l->modifier >> 32);
	}
#undef ATTR
	attribs[n] = EGL_NONE;
	return egl->api.eglCreateImageKHR(egl->display, EGL_NO_CONTEXT, EGL_LINUX_DMA_BUF_EXT, NULL,
					  attribs);
}

static int import_dmabuf(struct egl_importer *egl, const struct import_request *req,
			 struct egl_buffer *buf, const char **why)
{
	const struct pixel_layout *l = req->layout;
	size_t f = 0;
	while (f < sizeof(formats) / sizeof(formats[0]) && formats[f].fourcc != l->fourcc)
		f++;
	if (f == sizeof(formats) / sizeof(formats[0]))
		return refuse(egl, l, "is not asked to import", why);
	if (l->modifier != DRM_FORMAT_MOD_LINEAR &&
	    (!egl->has_modifiers || !modifier_supported(egl, formats[f].import_fourcc, l->modifier)))
		return refuse(egl, l, "cannot import", why);
	if (egl->software) {
		int ret = software_map_refused(egl, req, why);
		if (ret < 0)
			return ret;
	}
	/*
	 * A 4:2:2 row holds whole pairs (convert_check counts its bytes so):
	 * an odd width is imported one pixel wider, which Mesa samples right,
	 * and the extra column is never drawn.
	 */
	bool packed_422 = convert_bytes_per_pixel(l->fourcc) == 2 && formats[f].mode == EGL_SAMPLE_COPY;
	buf->texture_width = packed_422 ? (l->width + 1) & ~1u : l->width;
	buf->image = create_image(egl, req->fd, l, formats[f].import_fourcc, buf->texture_width);
	if (buf->image == EGL_NO_IMAGE_KHR) {
		EGLint err = egl->api.eglGetError();
		return refuse(egl, l, err == EGL_BAD_MATCH ? "rejected (EGL_BAD_MATCH)"
				      : "failed to import (EGL error)", why);
	}
	const struct egl_api *gl = &egl->api;
	gl->glGenTextures(1, &buf->texture);
	gl->glBindTexture(GL_TEXTURE_EXTERNAL_OES, buf->texture);
	gl->glTexParameteri(GL_TEXTURE_EXTERNAL_OES, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
	gl->glTexParameteri(GL_TEXTURE_EXTERNAL_OES, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
	gl->glEGLImageTargetTexture2DOES(GL_TEXTURE_EXTERNAL_OES, buf->image);
	if (gl->glGetError() != GL_NO_ERROR) {
		gl->glDeleteTextures(1, &buf->texture);
		egl->api.eglDestroyImageKHR(egl->display, buf->image);
		return refuse(egl, l, "cannot bind as a texture", why);
	}
	buf->layout = *l;
	buf->mode = formats[f].mode;
	return 0;
}

static int egl_map(const struct import_method *self, const struct import_request *req,
		   struct mapped_buffer *out, const char **why)
{
	struct egl_importer *egl = self->ctx;
	if (!req->is_dmabuf || !req->layout) {
		*why = "GPU import takes dmabufs only (a region plane is mapped by the CPU)";
		return -ENOTSUP;
	}
	int ret = ensure_setup(egl);
	if (ret < 0) {
		*why = egl->unavailable;
		return ret;
	}
	struct egl_buffer *buf = calloc(1, sizeof(*buf));
	if (!buf) {
		*why = "out of memory";
		return -ENOMEM;
	}
	buf->egl = egl;
	ret = import_dmabuf(egl, req, buf, why);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*out = (struct mapped_buffer){ .size = req->size, .sync_fd = -1, .priv = buf, .method = self };
	return 0;
}

static void egl_unmap(struct mapped_buffer *map)
{
	struct egl_buffer *buf = map->priv;
	if (!buf)
		return;
	struct egl_importer *egl = buf->egl;
	egl->api.glDeleteTextures(1, &buf->texture);
	egl->api.eglDestroyImageKHR(egl->display, buf->image);
	free(buf);
	map->priv = NULL;
}

/* The GPU driver orders its reads after the exporter's writes (implicit dmabuf fences). */
static int egl_begin_read(struct mapped_buffer *map)
{
	(void)map;
	return 0;
}

static void egl_end_read(struct mapped_buffer *map)
{
	(void)map;
}

static int egl_read_frame(struct mapped_buffer *map, const struct import_frame *frame,
			  const struct damage_map **damage, const char **why)
{
	struct egl_buffer *buf = map->priv;
	const struct pixel_layout *l = frame->layout, *had = &buf->layout;
	if (l->fourcc != had->fourcc || l->modifier != had->modifier || l->width != had->width ||
	    l->height != had->height || l->stride != had->stride) {
		*why = "the plane changed format or size under the same dmabuf id";
		return -ESTALE;
	}
	return egl_render_frame(buf->egl->render, buf->texture, buf->texture_width, buf->mode,
				frame, damage, &buf->egl->bytes_read, why);
}

static int egl_read_argb(struct mapped_buffer *map, uint8_t *dst, const char **why)
{
	struct egl_buffer *buf = map->priv;
	if (buf->mode != EGL_SAMPLE_COPY || convert_bytes_per_pixel(buf->layout.fourcc) != 4) {
		*why = "only 8-bit RGB formats are read with their alpha";
		return -ENOTSUP;
	}
	return egl_render_argb(buf->egl->render, buf->texture, buf->texture_width,
			       buf->layout.width, buf->layout.height, dst, &buf->egl->bytes_read,
			       why);
}

struct import_method *import_egl_new(const char *mdev_uuid)
{
	struct egl_importer *egl = calloc(1, sizeof(*egl));
	if (!egl)
		return NULL;
	snprintf(egl->mdev_uuid, sizeof(egl->mdev_uuid), "%s", mdev_uuid ? mdev_uuid : "");
	egl->display = EGL_NO_DISPLAY;
	egl->context = EGL_NO_CONTEXT;
	egl->method = (struct import_method){
		.name = "egl",
		.ctx = egl,
		.map = egl_map,
		.unmap = egl_unmap,
		.begin_read = egl_begin_read,
		.end_read = egl_end_read,
		.read_frame = egl_read_frame,
		.read_argb = egl_read_argb,
	};
	return &egl->method;
}

void import_egl_free(struct import_method *method)
{
	if (!method)
		return;
	struct egl_importer *egl = method->ctx;
	if (egl->display != EGL_NO_DISPLAY) {
		egl_render_free(egl->render);
		egl->api.eglMakeCurrent(egl->display, EGL_NO_SURFACE, EGL_NO_SURFACE,
					EGL_NO_CONTEXT);
		if (egl->context != EGL_NO_CONTEXT)
			egl->api.eglDestroyContext(egl->display, egl->context);
		egl->api.eglTerminate(egl->display);
		egl->api.eglReleaseThread();
	}
	free(egl);
}

uint64_t import_egl_bytes_read(const struct import_method *method)
{
	const struct egl_importer *egl = method->ctx;
	return egl->bytes_read;
}
