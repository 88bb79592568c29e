// placeholder, replaced by the CLI dispatcher
#include <stdio.h>
int main(void) { return 0; }
