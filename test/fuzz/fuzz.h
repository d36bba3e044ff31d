/* What the fuzz targets share: the libFuzzer entry point they define, and
 * a check that stops the run (as a crash, which both libFuzzer and the
 * replay report) when an invariant of the code under test does not hold. */
#ifndef TVSPACE_FUZZ_H
#define TVSPACE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
