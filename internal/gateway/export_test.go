package gateway

import (
	"crypto/tls"

	"hearth/internal/tlspolicy"
)

// clientTLSForTest trusts the device's vendor root, as a client of the gateway does.
func (m *Main) clientTLSForTest() *tls.Config {
	c, _ := tlspolicy.Client(m.identity().Roots, "localhost")
	return c
}
