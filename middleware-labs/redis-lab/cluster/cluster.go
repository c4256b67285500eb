// Package cluster maps keys to Redis Cluster hash slots and slots to nodes.
//
// A key's slot is CRC16(key) mod 16384, where only the part inside the first non-empty {...} is
// hashed when present: {user:42}:profile and {user:42}:cart share a slot, which is what makes
// multi-key commands and transactions possible in a cluster.
package cluster

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
)

// Slots is the number of hash slots.
const Slots = 16384

// crc16 is CRC16-CCITT (XMODEM), the variant Redis Cluster specifies.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// HashTag returns the part of key that is hashed: the content of the first {...} when it is
// non-empty, otherwise the whole key.
func HashTag(key []byte) []byte {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key
				}
				return key[i+1 : j]
			}
		}
		return key
	}
	return key
}

// Slot returns key's hash slot.
func Slot(key []byte) int { return int(crc16(HashTag(key)) % Slots) }

// Node is one cluster member owning the slot range [Start, End].
type Node struct {
	ID    string
	Host  string
	Port  int
	Start int
	End   int
}

// Addr is host:port.
func (n Node) Addr() string { return fmt.Sprintf("%s:%d", n.Host, n.Port) }

// Topology is a static cluster layout: every node owns one contiguous slot range.
type Topology struct {
	Nodes []Node
	Self  int // index of this process's node
	owner [Slots]int16
}

// Even splits the slots evenly over addrs (host:port each) in order; self is this node's address.
func Even(addrs []string, self string) (*Topology, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("cluster: expected at least one node address")
	}
	t := &Topology{Self: -1}
	per := Slots / len(addrs)
	for i, a := range addrs {
		host, port, err := splitHostPort(a)
		if err != nil {
			return nil, err
		}
		start, end := i*per, (i+1)*per-1
		if i == len(addrs)-1 {
			end = Slots - 1
		}
		sum := sha1.Sum([]byte(a))
		t.Nodes = append(t.Nodes, Node{ID: hex.EncodeToString(sum[:]), Host: host, Port: port, Start: start, End: end})
		for s := start; s <= end; s++ {
			t.owner[s] = int16(i)
		}
		if a == self {
			t.Self = i
		}
	}
	if t.Self < 0 {
		return nil, fmt.Errorf("cluster: this node's address %q is not in the node list %v", self, addrs)
	}
	return t, nil
}

func splitHostPort(a string) (string, int, error) {
	i := strings.LastIndexByte(a, ':')
	var port int
	if i <= 0 {
		return "", 0, fmt.Errorf("cluster: expected host:port, got %q", a)
	}
	if _, err := fmt.Sscanf(a[i+1:], "%d", &port); err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("cluster: expected host:port with a port in 1..65535, got %q", a)
	}
	return a[:i], port, nil
}

// Owner returns the node owning slot.
func (t *Topology) Owner(slot int) Node { return t.Nodes[t.owner[slot]] }

// Mine reports whether this node owns slot.
func (t *Topology) Mine(slot int) bool { return int(t.owner[slot]) == t.Self }

// Me is this node.
func (t *Topology) Me() Node { return t.Nodes[t.Self] }
