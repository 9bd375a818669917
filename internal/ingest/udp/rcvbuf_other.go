//go:build !linux

package udp

import "net"

// enlargeReceiveBuffer asks for size bytes of kernel receive buffer; the
// kernel may grant less. It returns 0: the size granted is not known here.
func enlargeReceiveBuffer(c *net.UDPConn, size int) int {
	_ = c.SetReadBuffer(size)
	return 0
}
