/* being written */ typedef int tvspace_placeholder_t;
