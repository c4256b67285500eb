// Package broker is a single Kafka broker: it accepts connections, decodes
// each request with package protocol, and serves topics and partitions from
// the partition log, consumer groups from package group, and producer ids for
// idempotent producers.
//
// Requests on one connection are handled one at a time, in order, as Kafka
// does: a client that pipelines requests gets its responses in the order it
// sent them, and a long-polling Fetch holds only its own connection.
package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/group"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// Log is one partition's storage as the broker uses it.
type Log interface {
	// Append writes one record batch, assigns its offsets and returns the
	// first; with acks=-1 it returns once the in-sync replicas have it.
	Append(ctx context.Context, batch []byte, acks int16) (int64, error)
	// Read returns whole batches starting with the one holding offset, up
	// to maxBytes (at least one batch), below the high watermark.
	Read(ctx context.Context, offset int64, maxBytes int) ([]byte, error)
	HighWatermark() int64
	StartOffset() int64
	// OffsetForTime is the first offset whose timestamp is >= ms.
	OffsetForTime(ms int64) (int64, error)
	Close() error
}

// OpenLog opens (or creates) the log of one partition.
type OpenLog func(topic string, partition int32) (Log, error)

// Config is a broker's identity and storage.
type Config struct {
	NodeID int32
	// Open opens a partition's log.
	Open OpenLog
	// DefaultPartitions is the partition count of topics created by a
	// Metadata or Produce request that names an unknown topic
	// (auto.create.topics.enable), as kcat -P expects.
	DefaultPartitions int32
	// Group configures the group coordinator.
	Group group.Config
	Log   *zap.Logger
}

// Broker serves the Kafka protocol on a listener.
type Broker struct {
	cfg   Config
	log   *zap.Logger
	Group *group.Coordinator

	host string
	port int32

	mu     sync.RWMutex
	topics map[string][]*partition

	nextProducerID atomic.Int64
	stats          Stats

	appendMu sync.Mutex
	appendCh chan struct{} // closed and replaced on every append

	wg      sync.WaitGroup
	connsMu sync.Mutex
	conns   map[net.Conn]struct{}
}

// Stats are the broker's counters, read by the lab's metrics.
type Stats struct {
	Requests         atomic.Int64
	ProducedBatches  atomic.Int64
	ProducedRecords  atomic.Int64
	DuplicateBatches atomic.Int64
	MalformedFrames  atomic.Int64
}

// New makes a broker; Serve runs it. The error is the group coordinator's
// failing to load committed offsets.
func New(cfg Config) (*Broker, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.Group.Log == nil {
		cfg.Group.Log = cfg.Log
	}
	coord, err := group.New(cfg.Group)
	if err != nil {
		return nil, err
	}
	b := &Broker{cfg: cfg, log: cfg.Log, Group: coord, topics: map[string][]*partition{}, conns: map[net.Conn]struct{}{}, appendCh: make(chan struct{})}
	return b, nil
}

// Stats returns the broker's counters.
func (b *Broker) Stats() *Stats { return &b.stats }

// Serve accepts connections on ln until ctx ends, then closes them all and
// the partition logs. The address clients are told to use (Metadata,
// FindCoordinator) is ln's.
func (b *Broker) Serve(ctx context.Context, ln net.Listener) error {
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return fmt.Errorf("broker: listener address: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("broker: listener port %q: %w", port, err)
	}
	b.host, b.port = host, int32(p)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.wg.Go(func() { b.Group.Run(ctx) })
	b.wg.Go(func() {
		<-ctx.Done()
		_ = ln.Close()
		b.connsMu.Lock()
		for c := range b.conns {
			_ = c.Close()
		}
		b.connsMu.Unlock()
	})
	var acceptErr error
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				acceptErr = fmt.Errorf("broker: accept: %w", err)
			}
			break
		}
		b.connsMu.Lock()
		b.conns[c] = struct{}{}
		b.connsMu.Unlock()
		b.wg.Go(func() {
			defer func() {
				b.connsMu.Lock()
				delete(b.conns, c)
				b.connsMu.Unlock()
				_ = c.Close()
			}()
			b.serveConn(ctx, c)
		})
	}
	cancel()
	b.wg.Wait()
	return errors.Join(acceptErr, b.closeLogs())
}

func (b *Broker) closeLogs() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for _, ps := range b.topics {
		for _, p := range ps {
			errs = append(errs, p.log.Close())
		}
	}
	b.topics = map[string][]*partition{}
	return errors.Join(errs...)
}

// serveConn reads, handles and answers requests in order until the client
// goes away, the broker stops, or a frame cannot be read.
func (b *Broker) serveConn(ctx context.Context, c net.Conn) {
	var buf []byte
	for {
		frame, err := protocol.ReadFrame(c, buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				b.stats.MalformedFrames.Add(1)
				b.log.Warn("closing connection: unreadable frame", zap.String("remote", c.RemoteAddr().String()), zap.Error(err))
			}
			return
		}
		buf = frame[:0]
		out, err := b.handle(ctx, frame)
		if err != nil {
			b.stats.MalformedFrames.Add(1)
			b.log.Warn("closing connection: bad request", zap.String("remote", c.RemoteAddr().String()), zap.Error(err))
			if out != nil {
				_, _ = c.Write(out)
			}
			return
		}
		if out == nil { // acks=0: Kafka sends no response
			continue
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// handle decodes one frame and returns the framed response. An error means
// close the connection (after writing the response, if any).
func (b *Broker) handle(ctx context.Context, frame []byte) ([]byte, error) {
	b.stats.Requests.Add(1)
	h, req, err := protocol.DecodeRequest(frame)
	if err != nil {
		if errors.Is(err, protocol.ErrUnsupportedVersion) && h.Key == protocol.ApiVersions {
			// KIP-511: answer in v0's layout so any client can read which
			// versions to use instead, and keep the connection.
			res := &protocol.ApiVersionsResponse{ErrorCode: protocol.UnsupportedVersion, Versions: protocol.SupportedVersions()}
			return protocol.Frame(h.CorrelationID, res.Encode(0)), nil
		}
		return nil, err
	}
	var res protocol.Response
	switch r := req.(type) {
	case *protocol.ApiVersionsRequest:
		res = &protocol.ApiVersionsResponse{Versions: protocol.SupportedVersions()}
	case *protocol.MetadataRequest:
		res = b.metadata(r)
	case *protocol.CreateTopicsRequest:
		res = b.createTopics(r)
	case *protocol.ProduceRequest:
		pr := b.produce(ctx, r)
		if r.Acks == 0 {
			return nil, nil
		}
		res = pr
	case *protocol.FetchRequest:
		res = b.fetch(ctx, r)
	case *protocol.ListOffsetsRequest:
		res = b.listOffsets(r)
	case *protocol.FindCoordinatorRequest:
		res = &protocol.FindCoordinatorResponse{Broker: b.self()}
	case *protocol.JoinGroupRequest:
		res = b.Group.Join(ctx, r, h.ClientID)
	case *protocol.SyncGroupRequest:
		res = b.Group.Sync(ctx, r)
	case *protocol.HeartbeatRequest:
		res = &protocol.ErrorResponse{ErrorCode: b.Group.Heartbeat(r)}
	case *protocol.LeaveGroupRequest:
		res = &protocol.ErrorResponse{ErrorCode: b.Group.Leave(r)}
	case *protocol.OffsetCommitRequest:
		res = b.Group.Commit(r)
	case *protocol.OffsetFetchRequest:
		res = b.Group.Fetch(r)
	case *protocol.InitProducerIDRequest:
		res = &protocol.InitProducerIDResponse{ProducerID: b.nextProducerID.Add(1)}
	default:
		return nil, fmt.Errorf("broker: no handler for api key %d", h.Key)
	}
	return protocol.Frame(h.CorrelationID, res.Encode(h.Version)), nil
}

func (b *Broker) self() protocol.BrokerInfo {
	return protocol.BrokerInfo{NodeID: b.cfg.NodeID, Host: b.host, Port: b.port}
}

// CreateTopic creates a topic with n partitions; it is an error if the
// topic exists.
func (b *Broker) CreateTopic(name string, n int32) error {
	if code := b.createTopic(name, n); code != protocol.None {
		return fmt.Errorf("broker: create topic %q with %d partitions: kafka error %d", name, n, code)
	}
	return nil
}

func (b *Broker) createTopic(name string, n int32) protocol.ErrorCode {
	if !validTopic(name) {
		return protocol.InvalidTopic
	}
	if n <= 0 || n > 1024 {
		return protocol.InvalidPartitions
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.topics[name]; ok {
		return protocol.TopicAlreadyExists
	}
	ps := make([]*partition, 0, n)
	for i := range n {
		l, err := b.cfg.Open(name, i)
		if err != nil {
			b.log.Error("open partition log", zap.String("topic", name), zap.Int32("partition", i), zap.Error(err))
			for _, p := range ps {
				_ = p.log.Close()
			}
			return protocol.UnknownServerError
		}
		ps = append(ps, newPartition(name, i, l))
	}
	b.topics[name] = ps
	b.log.Info("topic created", zap.String("topic", name), zap.Int32("partitions", n))
	return protocol.None
}

// validTopic is Kafka's rule: 1..249 of [a-zA-Z0-9._-], not "." or "..".
func validTopic(name string) bool {
	if name == "" || len(name) > 249 || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

func (b *Broker) partition(topic string, p int32) *partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	ps := b.topics[topic]
	if p < 0 || int(p) >= len(ps) {
		return nil
	}
	return ps[p]
}

func (b *Broker) metadata(r *protocol.MetadataRequest) *protocol.MetadataResponse {
	res := &protocol.MetadataResponse{Brokers: []protocol.BrokerInfo{b.self()}, ControllerID: b.cfg.NodeID}
	names := r.Topics
	if r.AllTopics || len(names) == 0 {
		b.mu.RLock()
		for name := range b.topics {
			names = append(names, name)
		}
		b.mu.RUnlock()
		sort.Strings(names)
	} else {
		for _, name := range names {
			if b.partition(name, 0) == nil {
				_ = b.createTopic(name, b.cfg.DefaultPartitions) // a race with another creator is fine
			}
		}
	}
	for _, name := range names {
		b.mu.RLock()
		ps, ok := b.topics[name]
		b.mu.RUnlock()
		t := protocol.TopicMetadata{Name: name}
		if !ok {
			t.ErrorCode = protocol.UnknownTopicOrPartition
			if !validTopic(name) {
				t.ErrorCode = protocol.InvalidTopic
			}
		}
		for _, p := range ps {
			id := []int32{b.cfg.NodeID}
			t.Partitions = append(t.Partitions, protocol.PartitionMetadata{Partition: p.index, Leader: b.cfg.NodeID, Replicas: id, ISR: id})
		}
		res.Topics = append(res.Topics, t)
	}
	return res
}

func (b *Broker) createTopics(r *protocol.CreateTopicsRequest) *protocol.CreateTopicsResponse {
	res := &protocol.CreateTopicsResponse{}
	for _, t := range r.Topics {
		var code protocol.ErrorCode
		if t.ReplicationFactor > 1 || t.ReplicationFactor == 0 || t.ReplicationFactor < -1 {
			code = protocol.InvalidReplicationFactor // one broker holds one replica
		} else {
			n := t.NumPartitions
			if n == -1 {
				n = b.cfg.DefaultPartitions
			}
			code = b.createTopic(t.Name, n)
		}
		res.Topics = append(res.Topics, protocol.TopicError{Name: t.Name, ErrorCode: code})
	}
	return res
}

func (b *Broker) listOffsets(r *protocol.ListOffsetsRequest) *protocol.ListOffsetsResponse {
	res := &protocol.ListOffsetsResponse{}
	for _, t := range r.Topics {
		tr := protocol.ListOffsetsTopicResponse{Name: t.Name}
		for _, rp := range t.Partitions {
			pr := protocol.ListOffsetsPartitionResponse{Partition: rp.Partition, Timestamp: -1, Offset: -1}
			p := b.partition(t.Name, rp.Partition)
			switch {
			case p == nil:
				pr.ErrorCode = protocol.UnknownTopicOrPartition
			case rp.Timestamp == -1:
				pr.Offset = p.log.HighWatermark()
			case rp.Timestamp == -2:
				pr.Offset = p.log.StartOffset()
			default:
				off, err := p.log.OffsetForTime(rp.Timestamp)
				if err != nil {
					pr.ErrorCode = protocol.UnknownServerError
				} else {
					pr.Offset, pr.Timestamp = off, rp.Timestamp
				}
			}
			tr.Partitions = append(tr.Partitions, pr)
		}
		res.Topics = append(res.Topics, tr)
	}
	return res
}

// HighWatermarks are a topic's partitions' high watermarks, in order.
func (b *Broker) HighWatermarks(topic string) []int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var hws []int64
	for _, p := range b.topics[topic] {
		hws = append(hws, p.log.HighWatermark())
	}
	return hws
}
