/* tcpecho's build options (include/ingot/options.h has the rest): a fiber
 * per connection, so many small stacks; a pool for 200 busy connections. */
#define CONFIG_SCHED_FIBERS_MAX  300
#define CONFIG_SCHED_STACK_SIZE  (16 * 1024)
#define CONFIG_SCHED_TIMERS_MAX  512
#define CONFIG_NET_PKTS          4096
#define CONFIG_NET_TCP_CONNS     512
#define CONFIG_NET_TCP_LISTENERS 4
