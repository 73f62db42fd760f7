/* Error numbers, with Linux's values so hosted and kvm agree.  Library calls
 * return them negated; errno itself is set only by the standard functions
 * that C says set it (strtol and friends). */
#ifndef _ERRNO_H
#define _ERRNO_H

extern int errno;

#define EPERM         1
#define ENOENT        2
#define EINTR         4
#define EIO           5
#define ENXIO         6
#define E2BIG         7
#define EBADF         9
#define EAGAIN        11
#define EWOULDBLOCK   EAGAIN
#define ENOMEM        12
#define EACCES        13
#define EFAULT        14
#define EBUSY         16
#define EEXIST        17
#define ENODEV        19
#define EISDIR        21
#define EINVAL        22
#define EMFILE        24
#define ENOSPC        28
#define EROFS         30
#define EPIPE         32
#define ERANGE        34
#define ENAMETOOLONG  36
#define ENOSYS        38
#define EPROTO        71
#define EBADMSG       74
#define EMSGSIZE      90
#define ENOTSUP       95
#define EOPNOTSUPP    95
#define EADDRINUSE    98
#define EADDRNOTAVAIL 99
#define ENETDOWN      100
#define ENETUNREACH   101
#define ECONNABORTED  103
#define ECONNRESET    104
#define ENOBUFS       105
#define EISCONN       106
#define ENOTCONN      107
#define ETIMEDOUT     110
#define ECONNREFUSED  111
#define EHOSTUNREACH  113
#define EALREADY      114
#define EINPROGRESS   115
#define ECANCELED     125

#endif
