// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The GPU side of the EGL import: render the imported buffer into a linear
 * RGBA8 framebuffer (converted to the daemon's XRGB8888 bytes), compare it
 * with the previous frame in shaders that end with one texel per 64x64 tile,
 * read back that small map, then read back only the changed tiles.
 */
#include "import_egl_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 2 /* the current and the previous frame, swapped after each read */

struct egl_render {
	const struct egl_api *gl;
	GLuint vao;
	GLuint convert, blocks, tiles;   /* programs */
	GLint convert_mode, convert_size; /* uniform locations */
	GLint blocks_size, tiles_size;
	GLuint frame_tex[FRAMES], frame_fbo[FRAMES];
	GLuint block_tex, block_fbo;     /* 1 per 8x8 block that changed */
	uint32_t block_cols, block_rows;
	GLuint map_tex, map_fbo;
	unsigned cur;                    /* index of the frame rendered next */
	bool have_prev;                  /* frame_tex[cur ^ 1] holds the previous frame */
	uint32_t width, height;
	GLuint argb_tex, argb_fbo;       /* for read_argb, of argb_width x argb_height */
	uint32_t argb_width, argb_height;
	struct damage_map map;
	uint8_t *map_pixels;             /* RGBA8 per tile, read back from map_fbo */
	struct rect *rects;              /* cols * rows, for damage_map_rects */
	char why[160];
};

/* A triangle covering the viewport, from the vertex index alone (no buffers). */
static const char vertex_src[] =
	"#version 300 es\n"
	"void main() {\n"
	"	vec2 p = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);\n"
	"	gl_Position = vec4(p, 0.0, 1.0);\n"
	"}\n";

/*
 * One texel per fragment at its exact centre (nearest filtering), so
 * framebuffer row y is buffer row y. Written as (B, G, R, 1): read back as
 * RGBA bytes that is XRGB8888 in memory, with no BGRA read extension. The
 * modes reproduce the CPU converter's integer results (convert.c).
 */
static const char convert_src[] =
	"#version 300 es\n"
	"#extension GL_OES_EGL_image_external_essl3 : require\n"
	"precision highp float;\n"
	"uniform samplerExternalOES src;\n"
	"uniform int mode;\n"
	"uniform vec2 size; /* of the texture */\n"
	"out vec4 color;\n"
	"void main() {\n"
	"	vec4 t = texture(src, gl_FragCoord.xy / size);\n"
	"	vec3 c = t.rgb;\n"
	"	float alpha = mode == 4 ? t.a : 1.0;\n"
	"	if (mode == 1) {\n"
	"		vec3 v = floor(c * vec3(31.0, 63.0, 31.0) + 0.5);\n"
	"		vec3 hi = v * vec3(8.0, 4.0, 8.0);\n"
	"		c = (hi + floor(v / vec3(4.0, 16.0, 4.0))) / 255.0;\n"
	"	} else if (mode == 2) {\n"
	"		c = floor(floor(c * 1023.0 + 0.5) / 4.0) / 255.0;\n"
	"	} else if (mode == 3) {\n"
	"		c = c.rrr;\n"
	"	}\n"
	"	color = vec4(c.b, c.g, c.r, alpha);\n"
	"}\n";

/*
 * The compare, in two passes so thousands of fragments share the work (one
 * fragment per 64x64 tile would leave most of a GPU idle): the first writes
 * 1 per 8x8 block where any pixel differs from the previous frame, the
 * second 1 per 64x64 tile (8x8 blocks) where any block is set.
 */
#define BLOCK 8
static const char blocks_src[] =
	"#version 300 es\n"
	"precision highp float;\n"
	"precision highp int;\n"
	"uniform highp sampler2D cur;\n"
	"uniform highp sampler2D prev;\n"
	"uniform ivec2 size; /* of the picture */\n"
	"out vec4 color;\n"
	"void main() {\n"
	"	ivec2 p0 = ivec2(gl_FragCoord.xy) * 8;\n"
	"	ivec2 p1 = min(p0 + 8, size);\n"
	"	for (int y = p0.y; y < p1.y; y++)\n"
	"		for (int x = p0.x; x < p1.x; x++)\n"
	"			if (texelFetch(cur, ivec2(x, y), 0) != texelFetch(prev, ivec2(x, y), 0)) {\n"
	"				color = vec4(1.0);\n"
	"				return;\n"
	"			}\n"
	"	color = vec4(0.0);\n"
	"}\n";

static const char tiles_src[] =
	"#version 300 es\n"
	"precision highp float;\n"
	"precision highp int;\n"
	"uniform highp sampler2D blocks;\n"
	"uniform ivec2 size; /* of the block map */\n"
	"out vec4 color;\n"
	"void main() {\n"
	"	ivec2 b0 = ivec2(gl_FragCoord.xy) * 8;\n"
	"	ivec2 b1 = min(b0 + 8, size);\n"
	"	float any = 0.0;\n"
	"	for (int y = b0.y; y < b1.y; y++)\n"
	"		for (int x = b0.x; x < b1.x; x++)\n"
	"			any = max(any, texelFetch(blocks, ivec2(x, y), 0).r);\n"
	"	color = vec4(any);\n"
	"}\n";
_Static_assert(BLOCK * BLOCK == DAMAGE_TILE, "two passes of 8x8 make a damage tile");

static GLuint compile(struct egl_render *r, GLenum type, const char *src)
{
	const struct egl_api *gl = r->gl;
	GLuint shader = gl->glCreateShader(type);
	GLint ok = GL_FALSE;
	gl->glShaderSource(shader, 1, &src, NULL);
	gl->glCompileShader(shader);
	gl->glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char log[96] = "";
		gl->glGetShaderInfoLog(shader, sizeof(log), NULL, log);
		snprintf(r->why, sizeof(r->why), "compiling a shader failed: %s", log);
		gl->glDeleteShader(shader);
		return 0;
	}
	return shader;
}

static GLuint link_program(struct egl_render *r, const char *fragment_src)
{
	const struct egl_api *gl = r->gl;
	GLuint vs = compile(r, GL_VERTEX_SHADER, vertex_src);
	GLuint fs = vs ? compile(r, GL_FRAGMENT_SHADER, fragment_src) : 0;
	if (!fs) {
		if (vs)
			gl->glDeleteShader(vs);
		return 0;
	}
	GLuint program = gl->glCreateProgram();
	GLint ok = GL_FALSE;
	gl->glAttachShader(program, vs);
	gl->glAttachShader(program, fs);
	gl->glLinkProgram(program);
	gl->glDeleteShader(vs);
	gl->glDeleteShader(fs);
	gl->glGetProgramiv(program, GL_LINK_STATUS, &ok);
	if (!ok) {
		char log[96] = "";
		gl->glGetProgramInfoLog(program, sizeof(log), NULL, log);
		snprintf(r->why, sizeof(r->why), "linking a shader program failed: %s", log);
		gl->glDeleteProgram(program);
		return 0;
	}
	return program;
}

int egl_render_new(const struct egl_api *gl, struct egl_render **out, char *why, size_t why_len)
{
	struct egl_render *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	r->gl = gl;
	r->convert = link_program(r, convert_src);
	r->blocks = r->convert ? link_program(r, blocks_src) : 0;
	r->tiles = r->blocks ? link_program(r, tiles_src) : 0;
	if (!r->tiles) {
		snprintf(why, why_len, "%s", r->why);
		egl_render_free(r);
		return -ENOTSUP;
	}
	r->convert_mode = gl->glGetUniformLocation(r->convert, "mode");
	r->convert_size = gl->glGetUniformLocation(r->convert, "size");
	r->blocks_size = gl->glGetUniformLocation(r->blocks, "size");
	r->tiles_size = gl->glGetUniformLocation(r->tiles, "size");
	gl->glUseProgram(r->convert);
	gl->glUniform1i(gl->glGetUniformLocation(r->convert, "src"), 0);
	gl->glUseProgram(r->blocks);
	gl->glUniform1i(gl->glGetUniformLocation(r->blocks, "cur"), 1);
	gl->glUniform1i(gl->glGetUniformLocation(r->blocks, "prev"), 2);
	gl->glUseProgram(r->tiles);
	gl->glUniform1i(gl->glGetUniformLocation(r->tiles, "blocks"), 3);
	gl->glGenVertexArrays(1, &r->vao);
	*out = r;
	return 0;
}

static void release_frames(struct egl_render *r)
{
	const struct egl_api *gl = r->gl;
	if (r->width == 0)
		return;
	gl->glDeleteFramebuffers(FRAMES, r->frame_fbo);
	gl->glDeleteTextures(FRAMES, r->frame_tex);
	gl->glDeleteFramebuffers(1, &r->block_fbo);
	gl->glDeleteTextures(1, &r->block_tex);
	gl->glDeleteFramebuffers(1, &r->map_fbo);
	gl->glDeleteTextures(1, &r->map_tex);
	damage_map_done(&r->map);
	free(r->map_pixels);
	free(r->rects);
	r->map_pixels = NULL;
	r->rects = NULL;
	r->width = r->height = 0;
	r->have_prev = false;
}

void egl_render_free(struct egl_render *r)
{
	if (!r)
		return;
	const struct egl_api *gl = r->gl;
	release_frames(r);
	if (r->argb_width) {
		gl->glDeleteFramebuffers(1, &r->argb_fbo);
		gl->glDeleteTextures(1, &r->argb_tex);
	}
	if (r->vao)
		gl->glDeleteVertexArrays(1, &r->vao);
	if (r->convert)
		gl->glDeleteProgram(r->convert);
	if (r->blocks)
		gl->glDeleteProgram(r->blocks);
	if (r->tiles)
		gl->glDeleteProgram(r->tiles);
	free(r);
}

static bool attach_target(struct egl_render *r, GLuint *tex, GLuint *fbo, uint32_t w, uint32_t h)
{
	const struct egl_api *gl = r->gl;
	gl->glGenTextures(1, tex);
	gl->glBindTexture(GL_TEXTURE_2D, *tex);
	gl->glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, (GLsizei)w, (GLsizei)h);
	gl->glGenFramebuffers(1, fbo);
	gl->glBindFramebuffer(GL_FRAMEBUFFER, *fbo);
	gl->glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, *tex, 0);
	return gl->glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
}

/* Framebuffers of the picture's size; a new size starts without a previous frame. */
static int ensure_size(struct egl_render *r, uint32_t w, uint32_t h, const char **why)
{
	if (r->width == w && r->height == h)
		return 0;
	release_frames(r);
	if (damage_map_init(&r->map, w, h) < 0) {
		*why = "out of memory for the damage map";
		return -ENOMEM;
	}
	r->width = w;
	r->height = h;
	size_t tiles = (size_t)r->map.cols * r->map.rows;
	r->map_pixels = malloc(tiles * 4);
	r->rects = malloc(tiles * sizeof(*r->rects));
	bool ok = r->map_pixels && r->rects;
	for (unsigned i = 0; ok && i < FRAMES; i++)
		ok = attach_target(r, &r->frame_tex[i], &r->frame_fbo[i], w, h);
	r->block_cols = (w + BLOCK - 1) / BLOCK;
	r->block_rows = (h + BLOCK - 1) / BLOCK;
	ok = ok && attach_target(r, &r->block_tex, &r->block_fbo, r->block_cols, r->block_rows);
	ok = ok && attach_target(r, &r->map_tex, &r->map_fbo, r->map.cols, r->map.rows);
	if (!ok) {
		release_frames(r);
		*why = "the GPU refused a framebuffer of the picture's size";
		return -ENOMEM;
	}
	return 0;
}

/* glGetError after each step: an import that succeeded can still fail to sample. */
static int gl_check(struct egl_render *r, const char *step, const char **why)
{
	GLenum err = r->gl->glGetError();
	if (err == GL_NO_ERROR)
		return 0;
	snprintf(r->why, sizeof(r->why), "GL error 0x%04x %s", err, step);
	*why = r->why;
	return -EIO;
}

static void read_rect(struct egl_render *r, const struct import_frame *frame, struct rect rc,
		      uint64_t *bytes_read)
{
	uint8_t *dst = frame->fb + (size_t)rc.y * frame->fb_stride + (size_t)rc.x * 4;
	r->gl->glReadPixels((GLint)rc.x, (GLint)rc.y, (GLsizei)rc.width, (GLsizei)rc.height, GL_RGBA,
			    GL_UNSIGNED_BYTE, dst);
	*bytes_read += (uint64_t)rc.width * rc.height * 4;
}

/* Renders the tile map against the previous frame and marks r->map from it. */
static int find_damage(struct egl_render *r, uint64_t *bytes_read, const char **why)
{
	const struct egl_api *gl = r->gl;
	gl->glBindFramebuffer(GL_FRAMEBUFFER, r->block_fbo);
	gl->glViewport(0, 0, (GLsizei)r->block_cols, (GLsizei)r->block_rows);
	gl->glUseProgram(r->blocks);
	gl->glUniform2i(r->blocks_size, (GLint)r->width, (GLint)r->height);
	gl->glActiveTexture(GL_TEXTURE1);
	gl->glBindTexture(GL_TEXTURE_2D, r->frame_tex[r->cur]);
	gl->glActiveTexture(GL_TEXTURE2);
	gl->glBindTexture(GL_TEXTURE_2D, r->frame_tex[r->cur ^ 1]);
	gl->glDrawArrays(GL_TRIANGLES, 0, 3);

	gl->glBindFramebuffer(GL_FRAMEBUFFER, r->map_fbo);
	gl->glViewport(0, 0, (GLsizei)r->map.cols, (GLsizei)r->map.rows);
	gl->glUseProgram(r->tiles);
	gl->glUniform2i(r->tiles_size, (GLint)r->block_cols, (GLint)r->block_rows);
	gl->glActiveTexture(GL_TEXTURE3);
	gl->glBindTexture(GL_TEXTURE_2D, r->block_tex);
	gl->glDrawArrays(GL_TRIANGLES, 0, 3);
	gl->glPixelStorei(GL_PACK_ROW_LENGTH, 0);
	gl->glReadPixels(0, 0, (GLsizei)r->map.cols, (GLsizei)r->map.rows, GL_RGBA,
			 GL_UNSIGNED_BYTE, r->map_pixels);
	*bytes_read += (uint64_t)r->map.cols * r->map.rows * 4;
	int ret = gl_check(r, "comparing with the previous frame", why);
	if (ret < 0)
		return ret;
	damage_map_clear(&r->map);
	for (uint32_t ty = 0; ty < r->map.rows; ty++)
		for (uint32_t tx = 0; tx < r->map.cols; tx++)
			if (r->map_pixels[((size_t)ty * r->map.cols + tx) * 4])
				damage_map_mark_rect(&r->map, (struct rect){ tx * DAMAGE_TILE,
						     ty * DAMAGE_TILE, DAMAGE_TILE, DAMAGE_TILE });
	return 0;
}

/* Draws texture into the bound framebuffer's viewport with the convert program. */
static void draw_converted(struct egl_render *r, GLuint texture, uint32_t texture_width,
			   uint32_t width, uint32_t height, enum egl_sample_mode mode)
{
	const struct egl_api *gl = r->gl;
	gl->glBindVertexArray(r->vao);
	gl->glViewport(0, 0, (GLsizei)width, (GLsizei)height);
	gl->glUseProgram(r->convert);
	gl->glUniform1i(r->convert_mode, (GLint)mode);
	gl->glUniform2f(r->convert_size, (GLfloat)texture_width, (GLfloat)height);
	gl->glActiveTexture(GL_TEXTURE0);
	gl->glBindTexture(GL_TEXTURE_EXTERNAL_OES, texture);
	gl->glDrawArrays(GL_TRIANGLES, 0, 3);
}

int egl_render_argb(struct egl_render *r, GLuint texture, uint32_t texture_width,
		    uint32_t width, uint32_t height, uint8_t *dst, uint64_t *bytes_read,
		    const char **why)
{
	const struct egl_api *gl = r->gl;
	if (r->argb_width != width || r->argb_height != height) {
		if (r->argb_width) {
			gl->glDeleteFramebuffers(1, &r->argb_fbo);
			gl->glDeleteTextures(1, &r->argb_tex);
		}
		r->argb_width = width;
		r->argb_height = height;
		if (!attach_target(r, &r->argb_tex, &r->argb_fbo, width, height)) {
			gl->glDeleteFramebuffers(1, &r->argb_fbo);
			gl->glDeleteTextures(1, &r->argb_tex);
			r->argb_width = r->argb_height = 0;
			*why = "the GPU refused a framebuffer of the cursor's size";
			return -ENOMEM;
		}
	}
	gl->glBindFramebuffer(GL_FRAMEBUFFER, r->argb_fbo);
	draw_converted(r, texture, texture_width, width, height, EGL_SAMPLE_ALPHA);
	gl->glPixelStorei(GL_PACK_ROW_LENGTH, 0);
	gl->glReadPixels(0, 0, (GLsizei)width, (GLsizei)height, GL_RGBA, GL_UNSIGNED_BYTE, dst);
	*bytes_read += (uint64_t)width * height * 4;
	return gl_check(r, "reading the cursor back", why);
}

int egl_render_frame(struct egl_render *r, GLuint texture, uint32_t texture_width,
		     enum egl_sample_mode mode,
		     const struct import_frame *frame, const struct damage_map **damage,
		     uint64_t *bytes_read, const char **why)
{
	const struct egl_api *gl = r->gl;
	const struct pixel_layout *l = frame->layout;
	int ret = ensure_size(r, l->width, l->height, why);
	if (ret < 0)
		return ret;

	gl->glBindFramebuffer(GL_FRAMEBUFFER, r->frame_fbo[r->cur]);
	draw_converted(r, texture, texture_width, l->width, l->height, mode);
	ret = gl_check(r, "sampling the imported buffer", why);
	if (ret < 0)
		return ret;

	if (frame->fb_current && r->have_prev) {
		ret = find_damage(r, bytes_read, why);
		if (ret < 0)
			return ret;
	} else {
		damage_map_mark_all(&r->map);
	}
	gl->glBindFramebuffer(GL_FRAMEBUFFER, r->frame_fbo[r->cur]);
	gl->glPixelStorei(GL_PACK_ROW_LENGTH, (GLint)(frame->fb_stride / 4));
	size_t n = damage_map_rects(&r->map, r->rects);
	for (size_t i = 0; i < n; i++)
		read_rect(r, frame, r->rects[i], bytes_read);
	ret = gl_check(r, "reading the picture back", why);
	if (ret < 0)
		return ret;
	r->cur ^= 1;
	r->have_prev = true;
	*damage = &r->map;
	return 0;
}
