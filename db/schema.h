/* The schema migrations, kept in the binary (generated from
 * db/schema/NNN_name.sql at build time) so tvspaced needs no source tree. */
#ifndef TVSPACE_SCHEMA_H
#define TVSPACE_SCHEMA_H

struct schema_migration {
	int version;      /* NNN of the file name */
	const char *name; /* the file name */
	const char *sql;
};

extern const struct schema_migration schema_migrations[];
extern const unsigned schema_n_migrations;

#endif
