// test-header-c.c - the public header compiles on its own as strict C11 (-pedantic -Werror). Its
// opening example is compiled the same way and run by the header-example test (CMakeLists.txt).
#include "wembed.h"

int main(void) { return 0; }
