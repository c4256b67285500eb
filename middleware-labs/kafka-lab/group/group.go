// Package group is the consumer-group coordinator: the classic (eager)
// rebalance protocol of JoinGroup, SyncGroup, Heartbeat and LeaveGroup, with
// generations and session and rebalance timeouts, and the group's committed
// offsets (OffsetCommit, OffsetFetch).
//
// A rebalance is a barrier. Once any member joins or leaves, every member
// must rejoin within the rebalance timeout; then the generation moves on, the
// coordinator names a leader, the leader computes the assignment on the
// client side and hands it back through SyncGroup. Until the leader's
// SyncGroup arrives, nobody consumes: this pause is what a rebalance storm
// multiplies.
package group

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// State is where a group is in the rebalance protocol.
type State int

// The group states of Kafka's GroupMetadata.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
)

func (s State) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable"}[s]
}

// Config tunes the coordinator.
type Config struct {
	Log *zap.Logger
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long the
	// first join of an empty group waits for more members, so consumers that
	// start together form one generation instead of several.
	InitialRebalanceDelay time.Duration
	// OnGeneration, when set, is told of every completed rebalance.
	OnGeneration func(Generation)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Offsets, when set, keeps committed offsets durable across restarts
	// (the broker's __consumer_offsets log); without it they live in memory.
	Offsets OffsetStore
}

// OffsetStore is where committed offsets outlive the coordinator.
type OffsetStore interface {
	// Save records one commit; the coordinator acknowledges it only after.
	Save(o Offset) error
	// Load returns every commit saved, oldest first; the last one wins.
	Load() ([]Offset, error)
}

// Offset is one committed offset of a group.
type Offset struct {
	Group     string
	Topic     string
	Partition int32
	Offset    int64
	Metadata  string
}

// Generation describes one completed rebalance.
type Generation struct {
	Group   string
	ID      int32
	Leader  string
	Members int
	Reason  string
}

// Coordinator owns every group on this broker.
type Coordinator struct {
	cfg    Config
	mu     sync.Mutex
	groups map[string]*group
	nextID int64
	// rebalances counts completed generations, for the lab's metrics.
	rebalances int64
}

type member struct {
	id               string
	clientID         string
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocolType     string
	protocols        []protocol.GroupProtocol
	lastHeartbeat    time.Time
	assignment       []byte
	join             chan *protocol.JoinGroupResponse // set while a JoinGroup waits
	sync             chan *protocol.SyncGroupResponse // set while a SyncGroup waits
}

type group struct {
	id         string
	state      State
	generation int32
	protocol   string
	leader     string
	members    map[string]*member
	order      []string // join order: the leader is the oldest member
	timer      *time.Timer
	reason     string
	// waiting is set while an empty group's first join waits out the
	// initial rebalance delay for more members.
	waiting bool
	offsets map[topicPartition]committed
}

type topicPartition struct {
	topic     string
	partition int32
}

type committed struct {
	offset   int64
	metadata string
}

// New makes a coordinator, with the offsets cfg.Offsets holds; Run expires
// members whose session lapsed.
func New(cfg Config) (*Coordinator, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Coordinator{cfg: cfg, groups: map[string]*group{}}
	if cfg.Offsets != nil {
		saved, err := cfg.Offsets.Load()
		if err != nil {
			return nil, fmt.Errorf("group: load committed offsets: %w", err)
		}
		for _, o := range saved {
			c.groupFor(o.Group).offsets[topicPartition{o.Topic, o.Partition}] = committed{offset: o.Offset, metadata: o.Metadata}
		}
	}
	return c, nil
}

// Rebalances is how many generations have completed across all groups.
func (c *Coordinator) Rebalances() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rebalances
}

// Run expires members that miss their session timeout until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.mu.Lock()
			for _, g := range c.groups {
				if g.timer != nil {
					g.timer.Stop()
				}
			}
			c.mu.Unlock()
			return
		case <-t.C:
			c.expireSessions()
		}
	}
}

func (c *Coordinator) expireSessions() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	for _, g := range c.groups {
		for _, id := range append([]string(nil), g.order...) {
			m := g.members[id]
			// A member waiting in JoinGroup is alive by definition; the
			// rebalance timeout, not the session, bounds that wait.
			if m.join != nil || now.Sub(m.lastHeartbeat) <= m.sessionTimeout {
				continue
			}
			c.cfg.Log.Warn("member session expired", zap.String("group", g.id), zap.String("member", id),
				zap.Duration("session_timeout", m.sessionTimeout))
			c.removeMember(g, id, "session timeout of "+id)
		}
	}
}

func (c *Coordinator) groupFor(id string) *group {
	g, ok := c.groups[id]
	if !ok {
		g = &group{id: id, members: map[string]*member{}, offsets: map[topicPartition]committed{}}
		c.groups[id] = g
	}
	return g
}

// Join handles JoinGroup: it blocks until the rebalance it joins completes,
// ctx ends, or the rebalance timeout removes members that did not rejoin.
func (c *Coordinator) Join(ctx context.Context, req *protocol.JoinGroupRequest, clientID string) *protocol.JoinGroupResponse {
	fail := func(code protocol.ErrorCode) *protocol.JoinGroupResponse {
		return &protocol.JoinGroupResponse{ErrorCode: code, GenerationID: -1, MemberID: req.MemberID}
	}
	if req.GroupID == "" {
		return fail(protocol.InvalidGroupID)
	}
	if req.SessionTimeoutMs <= 0 {
		return fail(protocol.InvalidSessionTimeout)
	}
	c.mu.Lock()
	g := c.groupFor(req.GroupID)
	if len(g.members) > 0 && !c.sharesProtocol(g, req) {
		c.mu.Unlock()
		return fail(protocol.InconsistentGroupProtocol)
	}
	id := req.MemberID
	m, known := g.members[id]
	switch {
	case id == "":
		c.nextID++
		id = fmt.Sprintf("%s-%d", clientID, c.nextID)
		m = &member{id: id, clientID: clientID}
		g.members[id] = m
		g.order = append(g.order, id)
	case !known:
		c.mu.Unlock()
		return fail(protocol.UnknownMemberID)
	}
	m.sessionTimeout = time.Duration(req.SessionTimeoutMs) * time.Millisecond
	m.rebalanceTimeout = time.Duration(max(req.RebalanceTimeoutMs, req.SessionTimeoutMs)) * time.Millisecond
	m.protocolType = req.ProtocolType
	m.protocols = req.Protocols
	m.lastHeartbeat = c.cfg.Now()
	ch := make(chan *protocol.JoinGroupResponse, 1)
	m.join = ch
	if m.sync != nil { // a member that rejoins abandons its SyncGroup
		m.sync <- &protocol.SyncGroupResponse{ErrorCode: protocol.RebalanceInProgress}
		m.sync = nil
	}
	reason := "join of " + id
	if known {
		reason = "rejoin of " + id
	}
	c.prepareRebalance(g, reason)
	c.maybeCompleteJoin(g)
	c.mu.Unlock()

	select {
	case res := <-ch:
		return res
	case <-ctx.Done():
		c.mu.Lock()
		if m.join == ch {
			m.join = nil
		}
		c.mu.Unlock()
		return fail(protocol.RebalanceInProgress)
	}
}

func (c *Coordinator) sharesProtocol(g *group, req *protocol.JoinGroupRequest) bool {
	for _, m := range g.members {
		if m.protocolType != req.ProtocolType {
			return false
		}
	}
	return true
}

// prepareRebalance moves the group into PreparingRebalance and arms the
// timer that ends the join phase.
func (c *Coordinator) prepareRebalance(g *group, reason string) {
	if g.state == PreparingRebalance {
		return
	}
	delay := time.Duration(0)
	for _, m := range g.members {
		delay = max(delay, m.rebalanceTimeout)
	}
	g.waiting = false
	if g.state == Empty {
		// Nobody else is consuming yet: wait only for company.
		delay = c.cfg.InitialRebalanceDelay
		g.waiting = delay > 0
	}
	g.state = PreparingRebalance
	g.reason = reason
	for _, m := range g.members {
		if m.sync != nil {
			m.sync <- &protocol.SyncGroupResponse{ErrorCode: protocol.RebalanceInProgress}
			m.sync = nil
		}
	}
	if g.timer != nil {
		g.timer.Stop()
	}
	g.timer = time.AfterFunc(delay, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if g.state == PreparingRebalance {
			c.completeJoin(g, true)
		}
	})
	if delay > 0 && g.state == PreparingRebalance {
		c.cfg.Log.Info("rebalance started", zap.String("group", g.id), zap.String("reason", reason))
	}
}

// maybeCompleteJoin ends the join phase early once every member has
// rejoined, unless an empty group is still in its initial delay.
func (c *Coordinator) maybeCompleteJoin(g *group) {
	if g.state != PreparingRebalance || g.waiting {
		return
	}
	for _, m := range g.members {
		if m.join == nil {
			return
		}
	}
	c.completeJoin(g, false)
}

// completeJoin starts the next generation with the members that rejoined;
// on the timer, those that did not are removed.
func (c *Coordinator) completeJoin(g *group, timedOut bool) {
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if timedOut {
		for _, id := range append([]string(nil), g.order...) {
			if g.members[id].join == nil {
				c.cfg.Log.Warn("member did not rejoin within the rebalance timeout", zap.String("group", g.id), zap.String("member", id))
				c.dropMember(g, id)
			}
		}
	}
	if len(g.members) == 0 {
		g.state = Empty
		g.generation++
		return
	}
	g.generation++
	c.rebalances++
	if _, ok := g.members[g.leader]; !ok {
		g.leader = g.order[0]
	}
	g.protocol = c.chooseProtocol(g)
	var all []protocol.GroupMember
	for _, id := range g.order {
		m := g.members[id]
		meta := []byte{}
		for _, p := range m.protocols {
			if p.Name == g.protocol {
				meta = p.Metadata
			}
		}
		all = append(all, protocol.GroupMember{MemberID: id, Metadata: meta})
	}
	// Announce the generation before any member hears of it, so whoever
	// watches generations never sees a member of one it was not told about.
	gen := Generation{Group: g.id, ID: g.generation, Leader: g.leader, Members: len(g.members), Reason: g.reason}
	c.cfg.Log.Info("generation started", zap.String("group", g.id), zap.Int32("generation", gen.ID),
		zap.Int("members", gen.Members), zap.String("reason", gen.Reason))
	if c.cfg.OnGeneration != nil {
		c.cfg.OnGeneration(gen)
	}
	now := c.cfg.Now()
	for _, id := range g.order {
		m := g.members[id]
		res := &protocol.JoinGroupResponse{GenerationID: g.generation, Protocol: g.protocol, LeaderID: g.leader, MemberID: id}
		if id == g.leader {
			res.Members = all
		}
		m.assignment = nil
		m.lastHeartbeat = now
		m.join <- res
		m.join = nil
	}
	g.state = CompletingRebalance
}

// chooseProtocol is the first of the leader's assignors every member supports.
func (c *Coordinator) chooseProtocol(g *group) string {
	for _, p := range g.members[g.leader].protocols {
		all := true
		for _, m := range g.members {
			found := false
			for _, q := range m.protocols {
				found = found || q.Name == p.Name
			}
			all = all && found
		}
		if all {
			return p.Name
		}
	}
	return ""
}

// Sync handles SyncGroup: the leader's call installs the assignment and
// releases everyone else's.
func (c *Coordinator) Sync(ctx context.Context, req *protocol.SyncGroupRequest) *protocol.SyncGroupResponse {
	c.mu.Lock()
	g, ok := c.groups[req.GroupID]
	var m *member
	if ok {
		m, ok = g.members[req.MemberID]
	}
	switch {
	case !ok:
		c.mu.Unlock()
		return &protocol.SyncGroupResponse{ErrorCode: protocol.UnknownMemberID}
	case req.GenerationID != g.generation:
		c.mu.Unlock()
		return &protocol.SyncGroupResponse{ErrorCode: protocol.IllegalGeneration}
	case g.state == PreparingRebalance:
		c.mu.Unlock()
		return &protocol.SyncGroupResponse{ErrorCode: protocol.RebalanceInProgress}
	case g.state == Stable:
		a := m.assignment
		c.mu.Unlock()
		return &protocol.SyncGroupResponse{Assignment: a}
	}
	if req.MemberID == g.leader {
		for id, mm := range g.members {
			mm.assignment = req.Assignments[id]
			if mm.sync != nil {
				mm.sync <- &protocol.SyncGroupResponse{Assignment: mm.assignment}
				mm.sync = nil
			}
		}
		g.state = Stable
		a := m.assignment
		c.mu.Unlock()
		return &protocol.SyncGroupResponse{Assignment: a}
	}
	ch := make(chan *protocol.SyncGroupResponse, 1)
	m.sync = ch
	c.mu.Unlock()
	select {
	case res := <-ch:
		return res
	case <-ctx.Done():
		c.mu.Lock()
		if m.sync == ch {
			m.sync = nil
		}
		c.mu.Unlock()
		return &protocol.SyncGroupResponse{ErrorCode: protocol.RebalanceInProgress}
	}
}

// Heartbeat keeps a member's session alive and tells it when to rejoin.
func (c *Coordinator) Heartbeat(req *protocol.HeartbeatRequest) protocol.ErrorCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.groups[req.GroupID]
	if !ok {
		return protocol.UnknownMemberID
	}
	m, ok := g.members[req.MemberID]
	switch {
	case !ok:
		return protocol.UnknownMemberID
	case req.GenerationID != g.generation:
		return protocol.IllegalGeneration
	}
	m.lastHeartbeat = c.cfg.Now()
	if g.state == PreparingRebalance {
		return protocol.RebalanceInProgress
	}
	return protocol.None
}

// Leave removes a member at once, rather than after its session lapses.
func (c *Coordinator) Leave(req *protocol.LeaveGroupRequest) protocol.ErrorCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.groups[req.GroupID]
	if !ok {
		return protocol.UnknownMemberID
	}
	if _, ok := g.members[req.MemberID]; !ok {
		return protocol.UnknownMemberID
	}
	c.removeMember(g, req.MemberID, "leave of "+req.MemberID)
	return protocol.None
}

// removeMember drops a member and rebalances whoever remains.
func (c *Coordinator) removeMember(g *group, id, reason string) {
	c.dropMember(g, id)
	if len(g.members) == 0 {
		if g.timer != nil {
			g.timer.Stop()
			g.timer = nil
		}
		g.state = Empty
		g.generation++
		return
	}
	c.prepareRebalance(g, reason)
	c.maybeCompleteJoin(g)
}

func (c *Coordinator) dropMember(g *group, id string) {
	m := g.members[id]
	if m.join != nil {
		m.join <- &protocol.JoinGroupResponse{ErrorCode: protocol.UnknownMemberID, GenerationID: -1, MemberID: id}
		m.join = nil
	}
	if m.sync != nil {
		m.sync <- &protocol.SyncGroupResponse{ErrorCode: protocol.UnknownMemberID}
		m.sync = nil
	}
	delete(g.members, id)
	for i, o := range g.order {
		if o == id {
			g.order = append(g.order[:i], g.order[i+1:]...)
			break
		}
	}
}

// Commit stores offsets. A member of the current generation may commit
// while a rebalance is being prepared (what it processed is done), not while
// the new assignment is being handed out; a generation of -1 is a
// standalone consumer outside any group protocol.
func (c *Coordinator) Commit(req *protocol.OffsetCommitRequest) *protocol.OffsetCommitResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groupFor(req.GroupID)
	code := protocol.None
	if req.GenerationID >= 0 || req.MemberID != "" {
		_, known := g.members[req.MemberID]
		switch {
		case !known:
			code = protocol.UnknownMemberID
		case req.GenerationID != g.generation:
			code = protocol.IllegalGeneration
		case g.state == CompletingRebalance:
			code = protocol.RebalanceInProgress
		}
	} else if len(g.members) > 0 {
		code = protocol.UnknownMemberID
	}
	res := &protocol.OffsetCommitResponse{}
	for _, t := range req.Topics {
		tr := protocol.OffsetCommitTopicResponse{Name: t.Name}
		for _, p := range t.Partitions {
			pcode := code
			if pcode == protocol.None && c.cfg.Offsets != nil {
				if err := c.cfg.Offsets.Save(Offset{Group: req.GroupID, Topic: t.Name, Partition: p.Partition, Offset: p.Offset, Metadata: p.Metadata}); err != nil {
					c.cfg.Log.Error("offset commit not saved", zap.String("group", req.GroupID), zap.Error(err))
					pcode = protocol.UnknownServerError
				}
			}
			if pcode == protocol.None {
				g.offsets[topicPartition{t.Name, p.Partition}] = committed{offset: p.Offset, metadata: p.Metadata}
			}
			tr.Partitions = append(tr.Partitions, protocol.PartitionError{Partition: p.Partition, ErrorCode: pcode})
		}
		res.Topics = append(res.Topics, tr)
	}
	return res
}

// Committed returns the group's committed offset for a partition (-1: none).
func (c *Coordinator) Committed(groupID, topic string, partition int32) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.groups[groupID]; ok {
		if o, ok := g.offsets[topicPartition{topic, partition}]; ok {
			return o.offset
		}
	}
	return -1
}

// Fetch returns committed offsets; -1 where nothing was committed.
func (c *Coordinator) Fetch(req *protocol.OffsetFetchRequest) *protocol.OffsetFetchResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groupFor(req.GroupID)
	res := &protocol.OffsetFetchResponse{}
	topics := req.Topics
	if req.AllTopics {
		byTopic := map[string][]int32{}
		for tp := range g.offsets {
			byTopic[tp.topic] = append(byTopic[tp.topic], tp.partition)
		}
		topics = nil
		for name, ps := range byTopic {
			topics = append(topics, protocol.OffsetFetchTopic{Name: name, Partitions: ps})
		}
	}
	for _, t := range topics {
		tr := protocol.OffsetFetchTopicResponse{Name: t.Name}
		for _, p := range t.Partitions {
			o, ok := g.offsets[topicPartition{t.Name, p}]
			if !ok {
				o.offset = -1
			}
			tr.Partitions = append(tr.Partitions, protocol.OffsetFetchPartitionResponse{Partition: p, Offset: o.offset, Metadata: o.metadata})
		}
		res.Topics = append(res.Topics, tr)
	}
	return res
}

// Describe is a group's state, generation and member count.
func (c *Coordinator) Describe(groupID string) (State, int32, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.groups[groupID]
	if !ok {
		return Empty, 0, 0
	}
	return g.state, g.generation, len(g.members)
}

// Lag is a group's lag: for every partition given with its high watermark,
// what is written but not committed.
func (c *Coordinator) Lag(groupID, topic string, highWatermarks []int64) int64 {
	var lag int64
	for p, hw := range highWatermarks {
		lag += hw - max(c.Committed(groupID, topic, int32(p)), 0)
	}
	return lag
}
