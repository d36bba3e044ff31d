/* An intrusive hash table with chaining, for the per-event lookups of the
 * tree (spaces by id, members by space and user, channels by id and group,
 * services in the lookup cache): a node lives inside the indexed object,
 * lookups walk one short bucket.  The table doubles itself when it holds
 * more nodes than buckets; when memory for that is short it keeps working,
 * only slower, so inserting never fails.  Pure; one thread. */
#ifndef TVSPACE_HASH_H
#define TVSPACE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/su_alloc.h>

typedef uint32_t hash_value_t;

/** Put one of these inside each indexed object. */
struct hash_node {
	struct hash_node *next;
	hash_value_t hv;
};

struct hash_table {
	su_home_t *home;
	struct hash_node **buckets;
	size_t n_buckets; /* a power of two */
	size_t n;
};

/** FNV-1a of the NUL-terminated @a s. */
static inline hash_value_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/** A 64-bit id mixed down to a hash value. */
static inline hash_value_t hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (hash_value_t)v;
}

/** An empty table allocating from @a home.  -ENOMEM. */
int hash_init(struct hash_table *t, su_home_t *home);
/** Free the buckets (not the nodes: they belong to their objects). */
void hash_deinit(struct hash_table *t);
/** Add @a node with hash value @a hv (a node may be in one table of one
 * kind at a time). */
void hash_insert(struct hash_table *t, struct hash_node *node, hash_value_t hv);
/** Take @a node out; nothing when it is not in the table. */
void hash_remove(struct hash_table *t, struct hash_node *node);
/** The first node of @a hv's bucket: walk it with ->next, comparing ->hv
 * and then the key. */
static inline struct hash_node *hash_bucket(const struct hash_table *t,
					    hash_value_t hv)
{
	return t->n_buckets ? t->buckets[hv & (t->n_buckets - 1)] : NULL;
}

/** The object a node is inside of. */
#define hash_entry(node, type, member)                                         \
	((type *)(void *)((char *)(node)-offsetof(type, member)))

#endif
