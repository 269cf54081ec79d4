// test-header-c.c - the public header compiles on its own as strict C11 (-pedantic -Werror).
#include "wembed.h"

int main(void) { return 0; }
