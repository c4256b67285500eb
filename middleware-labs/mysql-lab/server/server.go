// Package server is the lab's MySQL server: it accepts connections on a listener, authenticates
// them with mysql_native_password and runs their commands (COM_QUERY, COM_STMT_*, COM_PING,
// COM_INIT_DB, COM_QUIT) through an executor session, one goroutine per connection.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/executor"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/mysqlproto"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

// Config configures a Server.
type Config struct {
	User      string // "root" when empty
	Password  string // "" accepts an empty password only
	MaxPacket int    // max_allowed_packet; 64 MiB when zero
	Log       *zap.Logger
}

// Server serves the MySQL protocol for one executor.
type Server struct {
	ex  *executor.Executor
	cfg Config

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// New returns a server for ex.
func New(ex *executor.Executor, cfg Config) *Server {
	if cfg.User == "" {
		cfg.User = "root"
	}
	if cfg.MaxPacket == 0 {
		cfg.MaxPacket = 64 << 20
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return &Server{ex: ex, cfg: cfg, conns: map[net.Conn]struct{}{}}
}

// Serve accepts connections until ctx is done or ln fails, then closes every connection and
// waits for their goroutines.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	defer s.closeAll()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			if err := s.handle(ctx, c); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.cfg.Log.Info("connection closed", zap.Error(err), zap.String("remote", c.RemoteAddr().String()))
			}
		}()
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

type prepared struct {
	st      sqlparser.Statement
	sql     string
	nparams int
	types   []uint16
}

type conn struct {
	srv   *Server
	pc    *mysqlproto.Conn
	sess  *executor.Session
	stmts map[uint32]*prepared
	next  uint32
}

func (s *Server) handle(ctx context.Context, nc net.Conn) error {
	c := &conn{srv: s, pc: mysqlproto.NewConn(nc, s.cfg.MaxPacket), sess: s.ex.NewSession(), stmts: map[uint32]*prepared{}}
	defer c.sess.Close()
	if err := c.authenticate(); err != nil {
		return err
	}
	for {
		c.pc.ResetSeq()
		p, err := c.pc.ReadPacket()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return fmt.Errorf("%w: empty command packet", mysqlproto.ErrMalformed)
		}
		quit, err := c.command(ctx, p[0], p[1:])
		if err != nil {
			return err
		}
		if err := c.pc.Flush(); err != nil {
			return err
		}
		if quit {
			return nil
		}
	}
}

func (c *conn) authenticate() error {
	var scramble [20]byte
	if _, err := rand.Read(scramble[:]); err != nil {
		return fmt.Errorf("scramble: %w", err)
	}
	for i := range scramble { // printable, never NUL, as mysqld's
		scramble[i] = 33 + scramble[i]%94
	}
	if err := c.pc.WritePacket(mysqlproto.Handshake(executor.ServerVersion, c.sess.ID(), scramble, mysqlproto.StatusAutocommit)); err != nil {
		return err
	}
	if err := c.pc.Flush(); err != nil {
		return err
	}
	p, err := c.pc.ReadPacket()
	if err != nil {
		return err
	}
	hr, err := mysqlproto.ParseHandshakeResponse(p)
	if err != nil {
		_ = c.writeErr(1043, "08S01", "Bad handshake")
		return err
	}
	if hr.WantsSSL {
		_ = c.writeErr(1043, "08S01", "Bad handshake: the lab's server does not speak TLS; connect with --ssl=0 / tls=false")
		return errors.New("client asked for TLS")
	}
	auth := hr.AuthResponse
	if hr.Plugin != "" && hr.Plugin != mysqlproto.NativePassword {
		if err := c.pc.WritePacket(mysqlproto.AuthSwitchRequest(scramble)); err != nil {
			return err
		}
		if err := c.pc.Flush(); err != nil {
			return err
		}
		if auth, err = c.pc.ReadPacket(); err != nil {
			return err
		}
		auth = mysqlproto.TrimAuthData(auth)
	}
	if hr.User != c.srv.cfg.User || !mysqlproto.NativePasswordOK(c.srv.cfg.Password, scramble, auth) {
		using := "NO"
		if len(auth) > 0 {
			using = "YES"
		}
		_ = c.writeErr(1045, "28000", fmt.Sprintf("Access denied for user '%s'@'localhost' (using password: %s)", hr.User, using))
		return fmt.Errorf("access denied for %q", hr.User)
	}
	if hr.Database != "" {
		if _, err := c.sess.Exec(context.Background(), "USE `"+hr.Database+"`"); err != nil {
			return c.writeErr(1049, "42000", fmt.Sprintf("Unknown database '%s'", hr.Database))
		}
	}
	if err := c.pc.WritePacket(mysqlproto.OK(0, 0, c.status(), 0)); err != nil {
		return err
	}
	return c.pc.Flush()
}

func (c *conn) status() uint16 {
	var st uint16
	if c.sess.Autocommit() {
		st |= mysqlproto.StatusAutocommit
	}
	if c.sess.InTransaction() {
		st |= mysqlproto.StatusInTrans
	}
	return st
}

func (c *conn) writeErr(code uint16, state, msg string) error {
	if err := c.pc.WritePacket(mysqlproto.Err(code, state, msg)); err != nil {
		return err
	}
	return c.pc.Flush()
}

func (c *conn) writeError(err error) error {
	var me *executor.Error
	if errors.As(err, &me) {
		return c.pc.WritePacket(mysqlproto.Err(me.Code, me.State, me.Msg))
	}
	return c.pc.WritePacket(mysqlproto.Err(executor.ErUnknown, "HY000", err.Error()))
}

// command runs one command; quit reports COM_QUIT. A returned error ends the connection (a
// protocol violation or a network error); SQL errors go back to the client as ERR packets.
func (c *conn) command(ctx context.Context, cmd byte, body []byte) (quit bool, err error) {
	switch cmd {
	case mysqlproto.ComQuit:
		return true, nil
	case mysqlproto.ComPing, mysqlproto.ComResetConn:
		return false, c.pc.WritePacket(mysqlproto.OK(0, 0, c.status(), 0))
	case mysqlproto.ComInitDB:
		if _, err := c.sess.Exec(ctx, "USE `"+string(body)+"`"); err != nil {
			return false, c.writeError(err)
		}
		return false, c.pc.WritePacket(mysqlproto.OK(0, 0, c.status(), 0))
	case mysqlproto.ComQuery:
		res, err := c.sess.Exec(ctx, string(body))
		if err != nil {
			return false, c.writeError(err)
		}
		return false, c.writeResult(res, false)
	case mysqlproto.ComFieldList:
		return false, c.pc.WritePacket(mysqlproto.EOF(c.status(), 0))
	case mysqlproto.ComSetOption:
		return false, c.pc.WritePacket(mysqlproto.EOF(c.status(), 0))
	case mysqlproto.ComStmtPrepare:
		return false, c.prepare(string(body))
	case mysqlproto.ComStmtExecute:
		return false, c.execute(ctx, body)
	case mysqlproto.ComStmtClose:
		id, err := mysqlproto.StmtID(body)
		if err != nil {
			return false, err
		}
		delete(c.stmts, id)
		return false, nil // COM_STMT_CLOSE has no response
	case mysqlproto.ComStmtReset:
		return false, c.pc.WritePacket(mysqlproto.OK(0, 0, c.status(), 0))
	}
	return false, c.pc.WritePacket(mysqlproto.Err(1047, "08S01", fmt.Sprintf("Unknown command 0x%02x", cmd)))
}

func (c *conn) prepare(sql string) error {
	st, n, err := sqlparser.ParseWithParams(sql)
	if err != nil {
		var se *sqlparser.SyntaxError
		if errors.As(err, &se) {
			return c.pc.WritePacket(mysqlproto.Err(executor.ErParse, "42000", se.Error()))
		}
		return c.writeError(err)
	}
	c.next++
	id := c.next
	c.stmts[id] = &prepared{st: st, sql: sql, nparams: n}
	cols := c.sess.Describe(st)
	if err := c.pc.WritePacket(mysqlproto.StmtPrepareOK(id, uint16(len(cols)), uint16(n))); err != nil {
		return err
	}
	if n > 0 {
		for range n {
			if err := c.pc.WritePacket(mysqlproto.ColumnDefinition(mysqlproto.Column{Name: "?", Type: mysqlproto.TypeVarString})); err != nil {
				return err
			}
		}
		if err := c.pc.WritePacket(mysqlproto.EOF(c.status(), 0)); err != nil {
			return err
		}
	}
	if len(cols) > 0 {
		for _, col := range cols {
			if err := c.pc.WritePacket(mysqlproto.ColumnDefinition(wireColumn(col))); err != nil {
				return err
			}
		}
		return c.pc.WritePacket(mysqlproto.EOF(c.status(), 0))
	}
	return nil
}

func (c *conn) execute(ctx context.Context, body []byte) error {
	id, err := mysqlproto.StmtID(body)
	if err != nil {
		return err
	}
	ps, ok := c.stmts[id]
	if !ok {
		return c.pc.WritePacket(mysqlproto.Err(1243, "HY000", fmt.Sprintf("Unknown prepared statement handler (%d) given to mysqld_stmt_execute", id)))
	}
	ex, err := mysqlproto.ParseExecute(body, ps.nparams, ps.types)
	if err != nil {
		return err
	}
	ps.types = ex.Types
	res, err := c.sess.ExecStatement(ctx, ps.st, ps.sql, ex.Args)
	if err != nil {
		return c.writeError(err)
	}
	return c.writeResult(res, true)
}

// wireColumn maps the executor's column types to the protocol's: integers as LONGLONG, DOUBLE as
// DOUBLE, everything else (DATETIME included) as VAR_STRING text.
func wireColumn(rc executor.ResultColumn) mysqlproto.Column {
	col := mysqlproto.Column{Schema: "test", Table: rc.Table, Name: rc.Name, Type: mysqlproto.TypeVarString, Length: 1020}
	switch rc.Type {
	case "INT", "BIGINT":
		col.Type, col.Length, col.Flags = mysqlproto.TypeLongLong, 20, 0x8000|0x0080 // NUM_FLAG | BINARY_FLAG
	case "DOUBLE":
		col.Type, col.Length, col.Decimals, col.Flags = mysqlproto.TypeDouble, 22, 31, 0x8000|0x0080
	}
	return col
}

func (c *conn) writeResult(res *executor.Result, binary bool) error {
	if !res.IsResultSet {
		return c.pc.WritePacket(mysqlproto.OK(res.Affected, res.LastInsertID, c.status(), 0))
	}
	cols := make([]mysqlproto.Column, len(res.Columns))
	for i, rc := range res.Columns {
		cols[i] = wireColumn(rc)
	}
	if err := c.pc.WritePacket(mysqlproto.AppendLenEncInt(nil, uint64(len(cols)))); err != nil {
		return err
	}
	for _, col := range cols {
		if err := c.pc.WritePacket(mysqlproto.ColumnDefinition(col)); err != nil {
			return err
		}
	}
	if err := c.pc.WritePacket(mysqlproto.EOF(c.status(), 0)); err != nil {
		return err
	}
	for _, row := range res.Rows {
		var p []byte
		if binary {
			p = mysqlproto.BinaryRow(cols, row)
		} else {
			p = mysqlproto.TextRow(row)
		}
		if err := c.pc.WritePacket(p); err != nil {
			return err
		}
	}
	return c.pc.WritePacket(mysqlproto.EOF(c.status(), 0))
}
