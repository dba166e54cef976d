package vendorca

import (
	"fmt"
	"net"
)

func parseIP(s string) (net.IP, error) {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("issue device certificate: %q is not an IP address", s)
	}
	return ip, nil
}
