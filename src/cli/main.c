#include <stdio.h>
int main(void) { puts("ember"); return 0; }
