// libnl-3 and libnl-route-3 (Debian's libnl-3-dev, libnl-route-3-dev): netlink's route family
// (links, addresses, routes) from Swift, as `ip` speaks it. Stage 6 wires containers with it.
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <net/if.h>
