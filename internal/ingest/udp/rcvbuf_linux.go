package udp

import (
	"net"
	"syscall"
)

// enlargeReceiveBuffer asks for size bytes of kernel receive buffer. The
// plain request is capped by net.core.rmem_max (often 208 KiB, about 5 ms
// of traffic at 50,000 segments/s); with CAP_NET_ADMIN, SO_RCVBUFFORCE
// lifts the cap, as the X-Ray daemon's documentation advises. It returns
// the size granted.
func enlargeReceiveBuffer(c *net.UDPConn, size int) int {
	_ = c.SetReadBuffer(size)
	granted := 0
	if raw, err := c.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size)
			granted, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		})
	}
	return granted
}
