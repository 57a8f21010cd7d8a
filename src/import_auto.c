// SPDX-License-Identifier: GPL-2.0-or-later
/* import = auto: the CPU mapping where the exporter allows it, the GPU where it refuses. */
#include "import_auto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "import_egl.h"
#include "log.h"

struct import_auto {
	struct import_method method;
	const struct import_method *cpu, *gpu;
	const struct import_method *serving; /* the method last logged as serving the display */
	char both[320];                      /* the last "neither works" reason; see auto_map */
};

static void note_serving(struct import_auto *a, const struct import_method *m, const char *cpu_why)
{
	if (a->serving == m)
		return;
	a->serving = m;
	if (m == a->cpu)
		log_info("import = auto: display buffers are mapped by the CPU (the exporter allows it)");
	else
		log_info("import = auto: display buffers are imported on the GPU (EGL): the CPU "
			 "mapping was refused: %s", cpu_why);
}

/*
 * Every new buffer tries the CPU first: an exporter either allows mappings
 * or not, and a refused mmap costs one system call per dmabuf id. The
 * combined reason is kept here, overwritten by the next failure: buffers of
 * one device fail for the same reasons.
 */
static int auto_map(const struct import_method *self, const struct import_request *req,
		    struct mapped_buffer *out, const char **why)
{
	struct import_auto *a = self->ctx;
	const char *cpu_why = NULL, *gpu_why = NULL;
	int ret = a->cpu->map(a->cpu, req, out, &cpu_why);
	if (ret == 0) {
		note_serving(a, a->cpu, NULL);
		return 0;
	}
	if (!req->is_dmabuf) {
		*why = cpu_why;
		return ret;
	}
	int gpu_ret = a->gpu->map(a->gpu, req, out, &gpu_why);
	if (gpu_ret == 0) {
		note_serving(a, a->gpu, cpu_why);
		return 0;
	}
	snprintf(a->both, sizeof(a->both), "CPU: %s; GPU: %s", cpu_why, gpu_why);
	*why = a->both;
	return ret;
}

/* Each buffer goes back to the method that made it. */
static void auto_unmap(struct mapped_buffer *buf)
{
	if (buf->method)
		buf->method->unmap(buf);
}

static int auto_begin_read(struct mapped_buffer *buf)
{
	return buf->method->begin_read(buf);
}

static void auto_end_read(struct mapped_buffer *buf)
{
	buf->method->end_read(buf);
}

static int auto_read_frame(struct mapped_buffer *buf, const struct import_frame *frame,
			   const struct damage_map **damage, const char **why)
{
	if (!buf->method->read_frame) {
		*why = "a CPU-mapped buffer has no GPU frame to read";
		return -EINVAL;
	}
	return buf->method->read_frame(buf, frame, damage, why);
}

static int auto_read_argb(struct mapped_buffer *buf, uint8_t *dst, const char **why)
{
	if (!buf->method->read_argb) {
		*why = "a CPU-mapped buffer is read from its mapping";
		return -EINVAL;
	}
	return buf->method->read_argb(buf, dst, why);
}

struct import_method *import_auto_new(const struct import_method *cpu,
				      const struct import_method *gpu)
{
	struct import_auto *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->cpu = cpu;
	a->gpu = gpu;
	a->method = (struct import_method){
		.name = "auto",
		.ctx = a,
		.map = auto_map,
		.unmap = auto_unmap,
		.begin_read = auto_begin_read,
		.end_read = auto_end_read,
		.read_frame = auto_read_frame,
		.read_argb = auto_read_argb,
	};
	return &a->method;
}

void import_auto_free(struct import_method *method)
{
	if (method)
		free(method->ctx);
}

const struct import_method *import_choose(struct import_choice *choice, enum import_mode mode,
					  const char *mdev_uuid)
{
	*choice = (struct import_choice){ 0 };
	if (mode == IMPORT_MMAP)
		return &import_cpu_mmap;
	choice->gpu = import_egl_new(mdev_uuid);
	if (!choice->gpu || mode == IMPORT_EGL)
		return choice->gpu;
	choice->automatic = import_auto_new(&import_cpu_mmap, choice->gpu);
	return choice->automatic;
}

void import_choice_done(struct import_choice *choice)
{
	import_auto_free(choice->automatic);
	import_egl_free(choice->gpu);
	*choice = (struct import_choice){ 0 };
}
