/* kv's build options (include/ingot/options.h has the rest): a fiber per
 * connection (small stacks: buffers live on the heap), the store's two. */
#define CONFIG_SCHED_FIBERS_MAX  260
#define CONFIG_SCHED_STACK_SIZE  (32 * 1024)
#define CONFIG_SCHED_TIMERS_MAX  512
#define CONFIG_NET_PKTS          2048
#define CONFIG_NET_TCP_CONNS     256
#define CONFIG_NET_TCP_LISTENERS 2
