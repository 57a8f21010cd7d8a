// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame_store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cursor_image.h"
#include "fd_util.h"

struct frame_reader {
	struct frame_store *store;
	struct frame_reader *next;
	int wake_fd;
	uint64_t generation;     /* picture size the reader last copied */
	struct damage_map pending;
	struct rect *rects;
	/* The cursor as this reader's client last got it. */
	uint64_t cursor_serial;
	bool cursor_visible;
	int32_t cursor_x, cursor_y;
};

/* Apart from the picture's lock: a cursor move never waits for a frame copy. */
struct store_cursor {
	pthread_mutex_t lock;
	struct cursor_image image;
	uint64_t serial; /* bumped on every new shape */
	int32_t x, y;
	bool visible;
};

struct frame_store {
	pthread_rwlock_t lock;
	uint8_t *pixels;
	uint32_t width, height;
	size_t stride;
	uint64_t generation;     /* bumped on every resize */
	struct frame_reader *readers;
	struct store_cursor cursor;
};

struct frame_store *frame_store_new(void)
{
	struct frame_store *store = calloc(1, sizeof(*store));
	if (!store)
		return NULL;
	if (pthread_rwlock_init(&store->lock, NULL) != 0) {
		free(store);
		return NULL;
	}
	if (pthread_mutex_init(&store->cursor.lock, NULL) != 0) {
		pthread_rwlock_destroy(&store->lock);
		free(store);
		return NULL;
	}
	return store;
}

void frame_store_free(struct frame_store *store)
{
	if (!store)
		return;
	pthread_rwlock_destroy(&store->lock);
	pthread_mutex_destroy(&store->cursor.lock);
	cursor_image_done(&store->cursor.image);
	free(store->pixels);
	free(store);
}

void frame_store_size(struct frame_store *store, uint32_t *width, uint32_t *height)
{
	pthread_rwlock_rdlock(&store->lock);
	*width = store->width;
	*height = store->height;
	pthread_rwlock_unlock(&store->lock);
}

/* Sizes a reader's pending damage to the picture, all of it pending. */
static int reader_resize(struct frame_reader *reader, uint32_t width, uint32_t height)
{
	damage_map_done(&reader->pending);
	free(reader->rects);
	reader->rects = NULL;
	if (width == 0)
		return 0;
	if (damage_map_init(&reader->pending, width, height) < 0)
		return -ENOMEM;
	reader->rects = calloc((size_t)reader->pending.cols * reader->pending.rows,
			       sizeof(*reader->rects));
	if (!reader->rects)
		return -ENOMEM;
	damage_map_mark_all(&reader->pending);
	return 0;
}

/*
 * Page-aligned like the dmabuf mappings it is copied from: a source and a
 * destination at different offsets within a page make memcpy several times
 * slower.
 */
uint8_t *page_aligned_zalloc(size_t size)
{
	void *p;
	if (size == 0 || posix_memalign(&p, 4096, size) != 0)
		return NULL;
	return memset(p, 0, size);
}

int frame_store_begin_write(struct frame_store *store, uint32_t width, uint32_t height,
			    uint8_t **pixels, size_t *stride, bool *resized)
{
	pthread_rwlock_wrlock(&store->lock);
	*resized = false;
	if (store->width != width || store->height != height || !store->pixels) {
		size_t new_stride = (size_t)width * 4;
		uint8_t *fresh = page_aligned_zalloc((size_t)height * new_stride);
		if (!fresh) {
			pthread_rwlock_unlock(&store->lock);
			return -ENOMEM;
		}
		free(store->pixels);
		store->pixels = fresh;
		store->width = width;
		store->height = height;
		store->stride = new_stride;
		store->generation++;
		*resized = true;
	}
	*pixels = store->pixels;
	*stride = store->stride;
	return 0;
}

static void wake(int fd)
{
	uint64_t one = 1;
	/* A full counter already means "wake up": nothing is lost if this fails. */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

void frame_store_end_write(struct frame_store *store, const struct damage_map *damage)
{
	for (struct frame_reader *r = store->readers; r; r = r->next) {
		if (r->pending.width != store->width || r->pending.height != store->height) {
			/* A failed resize leaves no map: the reader's next sync retries it. */
			reader_resize(r, store->width, store->height);
		} else if (damage) {
			if (damage_map_empty(damage))
				continue;
			damage_map_merge(&r->pending, damage);
		} else {
			damage_map_mark_all(&r->pending);
		}
		wake(r->wake_fd);
	}
	pthread_rwlock_unlock(&store->lock);
}

struct frame_reader *frame_reader_new(struct frame_store *store)
{
	struct frame_reader *reader = calloc(1, sizeof(*reader));
	if (!reader)
		return NULL;
	reader->store = store;
	reader->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (reader->wake_fd < 0) {
		free(reader);
		return NULL;
	}
	pthread_rwlock_wrlock(&store->lock);
	/* A new reader has seen nothing: its first sync copies the whole picture. */
	reader->generation = store->generation - 1;
	reader->next = store->readers;
	store->readers = reader;
	pthread_rwlock_unlock(&store->lock);
	wake(reader->wake_fd);
	return reader;
}

void frame_reader_free(struct frame_reader *reader)
{
	if (!reader)
		return;
	struct frame_store *store = reader->store;
	pthread_rwlock_wrlock(&store->lock);
	for (struct frame_reader **p = &store->readers; *p; p = &(*p)->next) {
		if (*p == reader) {
			*p = reader->next;
			break;
		}
	}
	pthread_rwlock_unlock(&store->lock);
	damage_map_done(&reader->pending);
	free(reader->rects);
	close_fd(reader->wake_fd);
	free(reader);
}

int frame_reader_wake_fd(const struct frame_reader *reader)
{
	return reader->wake_fd;
}

void frame_reader_wake(struct frame_reader *reader)
{
	wake(reader->wake_fd);
}

static void copy_rect(uint8_t *dst, size_t dst_stride, const struct rgb32_layout *dst_layout,
		      const uint8_t *src, size_t src_stride, struct rect r)
{
	size_t offset = (size_t)r.x * 4;
	rgb32_convert(&rgb32_xrgb8888, src + r.y * src_stride + offset, src_stride,
		      dst_layout ? dst_layout : &rgb32_xrgb8888, dst + r.y * dst_stride + offset,
		      dst_stride, r.width, r.height);
}

/* Copies the damaged picture under the store's lock; *ready: dst has the current size. */
static size_t sync_picture(struct frame_reader *reader, uint8_t *dst,
			   const struct frame_copy_target *target, bool *ready)
{
	struct frame_store *store = reader->store;
	size_t n = 0;
	*ready = false;
	/*
	 * The read lock is enough: the writer touches a reader's pending map only
	 * under the write lock, and each reader touches only its own. So clients
	 * copy their tiles side by side, never while a frame is being written.
	 */
	pthread_rwlock_rdlock(&store->lock);
	if (!store->pixels)
		goto out;
	if (reader->generation != store->generation) {
		dst = target->resize(target->ctx, store->width, store->height);
		if (!dst || reader_resize(reader, store->width, store->height) < 0)
			goto out;
		reader->generation = store->generation;
	}
	*ready = true;
	if (!reader->rects || damage_map_empty(&reader->pending))
		goto out;
	n = damage_map_rects(&reader->pending, reader->rects);
	for (size_t i = 0; i < n; i++) {
		copy_rect(dst, (size_t)store->width * 4, target->layout, store->pixels,
			  store->stride, reader->rects[i]);
		target->copied(target->ctx, reader->rects[i]);
	}
	damage_map_clear(&reader->pending);
out:
	pthread_rwlock_unlock(&store->lock);
	return n;
}

static void sync_cursor(struct frame_reader *reader, const struct frame_copy_target *target)
{
	struct store_cursor *cur = &reader->store->cursor;
	pthread_mutex_lock(&cur->lock);
	/* A shape that changed while hidden is no news to a client that shows none. */
	bool news = reader->cursor_visible != cur->visible ||
		    (cur->visible && reader->cursor_serial != cur->serial);
	if (target->cursor_shape && news) {
		bool shown = cur->visible && cur->image.width > 0;
		target->cursor_shape(target->ctx, shown ? &cur->image : NULL);
		reader->cursor_serial = cur->serial;
		reader->cursor_visible = cur->visible;
	}
	if (target->cursor_moved && (reader->cursor_x != cur->x || reader->cursor_y != cur->y)) {
		target->cursor_moved(target->ctx, cur->x, cur->y);
		reader->cursor_x = cur->x;
		reader->cursor_y = cur->y;
	}
	pthread_mutex_unlock(&cur->lock);
}

size_t frame_reader_sync(struct frame_reader *reader, uint8_t *dst,
			 const struct frame_copy_target *target)
{
	uint64_t drained;
	/* Drain first: damage added after this point wakes us again. */
	if (read(reader->wake_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
		return 0;

	bool ready;
	size_t n = sync_picture(reader, dst, target, &ready);
	if (ready)
		sync_cursor(reader, target);
	return n;
}

static void wake_readers(struct frame_store *store)
{
	pthread_rwlock_rdlock(&store->lock);
	for (struct frame_reader *r = store->readers; r; r = r->next)
		wake(r->wake_fd);
	pthread_rwlock_unlock(&store->lock);
}

void frame_store_set_cursor_shape(struct frame_store *store, struct cursor_image *image)
{
	struct store_cursor *cur = &store->cursor;
	pthread_mutex_lock(&cur->lock);
	cursor_image_done(&cur->image);
	cur->image = *image;
	cur->serial++;
	pthread_mutex_unlock(&cur->lock);
	memset(image, 0, sizeof(*image));
	wake_readers(store);
}

void frame_store_set_cursor_pos(struct frame_store *store, int32_t x, int32_t y, bool visible)
{
	struct store_cursor *cur = &store->cursor;
	pthread_mutex_lock(&cur->lock);
	bool changed = cur->x != x || cur->y != y || cur->visible != visible;
	cur->x = x;
	cur->y = y;
	cur->visible = visible;
	pthread_mutex_unlock(&cur->lock);
	if (changed)
		wake_readers(store);
}
