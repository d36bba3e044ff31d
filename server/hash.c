/* The intrusive hash table (hash.h). */
#include "server/hash.h"

#include <errno.h>

#define FIRST_BUCKETS 64

int hash_init(struct hash_table *t, su_home_t *home)
{
	t->home = home;
	t->n = 0;
	t->n_buckets = FIRST_BUCKETS;
	t->buckets =
	    su_zalloc(home, FIRST_BUCKETS * sizeof(struct hash_node *));
	return t->buckets ? 0 : -ENOMEM;
}

void hash_deinit(struct hash_table *t)
{
	su_free(t->home, t->buckets);
	t->buckets = NULL;
	t->n_buckets = t->n = 0;
}

/* Twice the buckets, every node moved to its new one.  Without the
 * memory the table stays as it is. */
static void grow(struct hash_table *t)
{
	size_t n = 2 * t->n_buckets;
	struct hash_node **b;

	/* sofia's allocator takes an int */
	if (n * sizeof(struct hash_node *) > (size_t)INT32_MAX)
		return;
	b = su_zalloc(t->home, (isize_t)(n * sizeof(struct hash_node *)));
	if (!b)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct hash_node *x, *next;

		for (x = t->buckets[i]; x; x = next) {
			next = x->next;
			x->next = b[x->hv & (n - 1)];
			b[x->hv & (n - 1)] = x;
		}
	}
	su_free(t->home, t->buckets);
	t->buckets = b;
	t->n_buckets = n;
}

void hash_insert(struct hash_table *t, struct hash_node *node, hash_value_t hv)
{
	struct hash_node **b;

	if (t->n >= t->n_buckets)
		grow(t);
	b = &t->buckets[hv & (t->n_buckets - 1)];
	node->hv = hv;
	node->next = *b;
	*b = node;
	t->n++;
}

void hash_remove(struct hash_table *t, struct hash_node *node)
{
	struct hash_node **pp;

	if (!t->n_buckets)
		return;
	for (pp = &t->buckets[node->hv & (t->n_buckets - 1)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			t->n--;
			return;
		}
}
