/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_IMPORT_EGL_API_H
#define MDEV_VNCD_IMPORT_EGL_API_H

/*
 * Private to the EGL import module (import_egl*.c), the only place with GL
 * code. EGL and GLES are loaded at run time (dlopen), so the daemon runs on
 * hosts without any GL library: only the prototypes' types come from the
 * Khronos headers, every entry point is a pointer in struct egl_api.
 */
#define EGL_EGL_PROTOTYPES 0
#define GL_GLES_PROTOTYPES 0
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>
#include <GLES2/gl2ext.h>

#include <stddef.h>
#include <stdint.h>

#include "import.h"

/* Core EGL 1.4, from libEGL.so.1. */
#define EGL_API_CORE(X) \
	X(PFNEGLGETERRORPROC, eglGetError) \
	X(PFNEGLINITIALIZEPROC, eglInitialize) \
	X(PFNEGLTERMINATEPROC, eglTerminate) \
	X(PFNEGLQUERYSTRINGPROC, eglQueryString) \
	X(PFNEGLBINDAPIPROC, eglBindAPI) \
	X(PFNEGLCREATECONTEXTPROC, eglCreateContext) \
	X(PFNEGLDESTROYCONTEXTPROC, eglDestroyContext) \
	X(PFNEGLMAKECURRENTPROC, eglMakeCurrent) \
	X(PFNEGLRELEASETHREADPROC, eglReleaseThread)

/* Extensions, through eglGetProcAddress; checked against the extension strings before use. */
#define EGL_API_EXT(X) \
	X(PFNEGLGETPLATFORMDISPLAYEXTPROC, eglGetPlatformDisplayEXT) \
	X(PFNEGLQUERYDEVICESEXTPROC, eglQueryDevicesEXT) \
	X(PFNEGLQUERYDEVICESTRINGEXTPROC, eglQueryDeviceStringEXT) \
	X(PFNEGLCREATEIMAGEKHRPROC, eglCreateImageKHR) \
	X(PFNEGLDESTROYIMAGEKHRPROC, eglDestroyImageKHR) \
	X(PFNEGLQUERYDMABUFMODIFIERSEXTPROC, eglQueryDmaBufModifiersEXT) \
	X(PFNGLEGLIMAGETARGETTEXTURE2DOESPROC, glEGLImageTargetTexture2DOES)

/* GLES 3.0, from libGLESv2.so.2. */
#define EGL_API_GLES(X) \
	X(PFNGLGETERRORPROC, glGetError) \
	X(PFNGLGETSTRINGPROC, glGetString) \
	X(PFNGLGENTEXTURESPROC, glGenTextures) \
	X(PFNGLDELETETEXTURESPROC, glDeleteTextures) \
	X(PFNGLBINDTEXTUREPROC, glBindTexture) \
	X(PFNGLACTIVETEXTUREPROC, glActiveTexture) \
	X(PFNGLTEXPARAMETERIPROC, glTexParameteri) \
	X(PFNGLTEXSTORAGE2DPROC, glTexStorage2D) \
	X(PFNGLGENFRAMEBUFFERSPROC, glGenFramebuffers) \
	X(PFNGLDELETEFRAMEBUFFERSPROC, glDeleteFramebuffers) \
	X(PFNGLBINDFRAMEBUFFERPROC, glBindFramebuffer) \
	X(PFNGLFRAMEBUFFERTEXTURE2DPROC, glFramebufferTexture2D) \
	X(PFNGLCHECKFRAMEBUFFERSTATUSPROC, glCheckFramebufferStatus) \
	X(PFNGLGENVERTEXARRAYSPROC, glGenVertexArrays) \
	X(PFNGLDELETEVERTEXARRAYSPROC, glDeleteVertexArrays) \
	X(PFNGLBINDVERTEXARRAYPROC, glBindVertexArray) \
	X(PFNGLVIEWPORTPROC, glViewport) \
	X(PFNGLCREATESHADERPROC, glCreateShader) \
	X(PFNGLSHADERSOURCEPROC, glShaderSource) \
	X(PFNGLCOMPILESHADERPROC, glCompileShader) \
	X(PFNGLGETSHADERIVPROC, glGetShaderiv) \
	X(PFNGLGETSHADERINFOLOGPROC, glGetShaderInfoLog) \
	X(PFNGLDELETESHADERPROC, glDeleteShader) \
	X(PFNGLCREATEPROGRAMPROC, glCreateProgram) \
	X(PFNGLATTACHSHADERPROC, glAttachShader) \
	X(PFNGLLINKPROGRAMPROC, glLinkProgram) \
	X(PFNGLGETPROGRAMIVPROC, glGetProgramiv) \
	X(PFNGLGETPROGRAMINFOLOGPROC, glGetProgramInfoLog) \
	X(PFNGLDELETEPROGRAMPROC, glDeleteProgram) \
	X(PFNGLUSEPROGRAMPROC, glUseProgram) \
	X(PFNGLGETUNIFORMLOCATIONPROC, glGetUniformLocation) \
	X(PFNGLUNIFORM1IPROC, glUniform1i) \
	X(PFNGLUNIFORM2IPROC, glUniform2i) \
	X(PFNGLUNIFORM2FPROC, glUniform2f) \
	X(PFNGLDRAWARRAYSPROC, glDrawArrays) \
	X(PFNGLPIXELSTOREIPROC, glPixelStorei) \
	X(PFNGLREADPIXELSPROC, glReadPixels)

struct egl_api {
#define EGL_API_FIELD(type, name) type name;
	EGL_API_CORE(EGL_API_FIELD)
	EGL_API_EXT(EGL_API_FIELD)
	EGL_API_GLES(EGL_API_FIELD)
#undef EGL_API_FIELD
};

/* How the convert shader turns a sampled texel into the CPU path's exact XRGB8888 value. */
enum egl_sample_mode {
	EGL_SAMPLE_COPY,     /* 8-bit RGB, and YUV converted by the sampler */
	EGL_SAMPLE_RGB565,   /* 5/6-bit channels widened by bit replication, as libyuv */
	EGL_SAMPLE_TEN_BIT,  /* 10-bit channels truncated to their top 8 bits */
	EGL_SAMPLE_GRAY,     /* C8 imported as R8: index i is the gray (i, i, i) */
	EGL_SAMPLE_ALPHA,    /* 8-bit RGBA with its alpha kept (cursor shapes) */
};

/* Programs, framebuffers and the damage map of one GL context (import_egl_render.c). */
struct egl_render;

/* Needs the context current; why gets what failed. */
int egl_render_new(const struct egl_api *gl, struct egl_render **out, char *why, size_t why_len);
void egl_render_free(struct egl_render *render);

/*
 * Renders texture (the imported buffer, a GL_TEXTURE_EXTERNAL_OES of
 * texture_width x the layout's height; only the layout's width is drawn) into the
 * current frame, finds the 64x64 tiles that differ from the previous frame
 * on the GPU and reads back only those into frame->fb (everything when
 * frame->fb_current is false). Adds the bytes read back to *bytes_read.
 */
int egl_render_frame(struct egl_render *render, GLuint texture, uint32_t texture_width,
		     enum egl_sample_mode mode,
		     const struct import_frame *frame, const struct damage_map **damage,
		     uint64_t *bytes_read, const char **why);

/*
 * Renders texture whole, alpha kept, into a framebuffer of width x height
 * and reads it back as ARGB8888 (B, G, R, A bytes) into dst, rows of
 * width * 4 bytes: for cursor shapes, which need their alpha.
 */
int egl_render_argb(struct egl_render *render, GLuint texture, uint32_t texture_width,
		    uint32_t width, uint32_t height, uint8_t *dst, uint64_t *bytes_read,
		    const char **why);

#endif
