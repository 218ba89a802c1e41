/* Linux interfaces Swift's Glibc module leaves out: epoll, eventfd, prctl and mallopt, for the daemons. */
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

/* prctl is variadic, which Swift cannot call. */
static inline int swsgi_prctl(int option, unsigned long argument) { return prctl(option, argument, 0, 0, 0); }

/* glibc's pointer to argv[0], where a daemon writes its display name. */
static inline char *swsgi_argv0(void) { extern char *program_invocation_name; return program_invocation_name; }
