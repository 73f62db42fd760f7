/* The reference process: a static Linux executable that prints one line. */
#include <stdio.h>

int main(void)
{
	puts("Hello from a static Linux process!");
	return 0;
}
