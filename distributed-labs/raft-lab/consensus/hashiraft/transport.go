package hashiraft

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// NewTCPTransport is hashicorp/raft's network transport over ln (the Raft
// half of a connsplit.Splitter), dialling each peer at the address peers
// maps its ID to. In a lab scenario those addresses are netfault proxies,
// which differ per (from, to) link, so addresses are resolved per node by
// ID rather than stored in the shared configuration.
func NewTCPTransport(ln net.Listener, peers map[string]string, log io.Writer) raft.Transport {
	if log == nil {
		log = io.Discard
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:                &stream{Listener: ln},
		MaxPool:               3,
		Timeout:               2 * time.Second,
		ServerAddressProvider: addresses(peers),
		Logger:                hclog.New(&hclog.LoggerOptions{Name: "raft-net", Output: log, Level: hclog.Warn}),
	})
}

type addresses map[string]string

func (a addresses) ServerAddr(id raft.ServerID) (raft.ServerAddress, error) {
	addr, ok := a[string(id)]
	if !ok {
		return "", fmt.Errorf("hashiraft: no address for server %q", id)
	}
	return raft.ServerAddress(addr), nil
}

type stream struct{ net.Listener }

func (s *stream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil {
		return nil, fmt.Errorf("hashiraft: dial %s: %w", addr, err)
	}
	return c, nil
}
