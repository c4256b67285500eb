package server

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
)

// scripts runs EVAL/EVALSHA on one gopher-lua VM. A script runs while the executor lock is
// held, so it is atomic exactly as in Redis: no other command runs until it returns. A
// ScriptTimeout bounds a runaway script (Redis instead answers BUSY and offers SCRIPT KILL).
type scripts struct {
	s      *Server
	L      *lua.LState
	bodies map[string]string
	fake   *client
	caller *client

	fns        *functionRegistry // FUNCTION libraries
	loadingLib bool              // FUNCTION LOAD is running a library's code
	readOnly   bool              // FCALL_RO or a no-writes function is running
}

func newScripts(s *Server) *scripts {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// No file or OS access from scripts, as in Redis.
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "require", "module"} {
		L.SetGlobal(name, lua.LNil)
	}
	sc := &scripts{s: s, L: L, bodies: map[string]string{}, fake: s.newFakeClient()}
	red := L.NewTable()
	L.SetFuncs(red, map[string]lua.LGFunction{
		"call":         func(L *lua.LState) int { return sc.redisCall(L, true) },
		"pcall":        func(L *lua.LState) int { return sc.redisCall(L, false) },
		"status_reply": func(L *lua.LState) int { return tableReply(L, "ok", L.CheckString(1)) },
		"error_reply":  func(L *lua.LState) int { return tableReply(L, "err", L.CheckString(1)) },
		"sha1hex": func(L *lua.LState) int {
			L.Push(lua.LString(sha1hex(L.CheckString(1))))
			return 1
		},
		"log":               func(L *lua.LState) int { return 0 },
		"register_function": func(L *lua.LState) int { return sc.registerFunction(L) },
	})
	L.SetGlobal("redis", red)
	return sc
}

func tableReply(L *lua.LState, field, msg string) int {
	t := L.NewTable()
	t.RawSetString(field, lua.LString(msg))
	L.Push(t)
	return 1
}

func sha1hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func evalKeys(args [][]byte) [][]byte {
	if len(args) < 3 {
		return nil
	}
	n, ok := parseInt(args[2])
	if !ok || n <= 0 || int(n) > len(args)-3 {
		return nil
	}
	return args[3 : 3+n]
}

// load compiles body as function f_<sha>, as Redis does, and returns the sha.
func (sc *scripts) load(body string) (string, error) {
	sha := sha1hex(body)
	if _, ok := sc.bodies[sha]; ok {
		return sha, nil
	}
	fn, err := sc.L.LoadString(body)
	if err != nil {
		return "", fmt.Errorf("ERR Error compiling script (new function): user_script:%s", trimLuaErr(err))
	}
	sc.L.SetGlobal("f_"+sha, fn)
	sc.bodies[sha] = body
	return sha, nil
}

func trimLuaErr(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\nstack traceback"); i >= 0 {
		msg = msg[:i]
	}
	return strings.ReplaceAll(msg, "\n", " ")
}

func cmdScript(s *Server, c *client, args [][]byte) {
	switch resp.Lower(args[1]) {
	case "load":
		if len(args) != 3 {
			c.err(errArity("script|load"))
			return
		}
		sha, err := s.scripts.load(string(args[2]))
		if err != nil {
			c.err(err.Error())
			return
		}
		c.w.BulkString(sha)
	case "exists":
		c.w.Array(len(args) - 2)
		for _, a := range args[2:] {
			_, ok := s.scripts.bodies[strings.ToLower(string(a))]
			c.w.Bool(ok)
		}
	case "flush":
		for sha := range s.scripts.bodies {
			s.scripts.L.SetGlobal("f_"+sha, lua.LNil)
		}
		s.scripts.bodies = map[string]string{}
		c.ok()
	default:
		c.err(unknownSubcommand(args[1], "script"))
	}
}

func cmdEval(s *Server, c *client, args [][]byte) {
	n, errReply := parseNumKeys(args)
	if errReply != "" {
		c.err(errReply)
		return
	}
	var sha string
	if resp.Equal(args[0], "evalsha") {
		sha = strings.ToLower(string(args[1]))
		if _, ok := s.scripts.bodies[sha]; !ok {
			c.err("NOSCRIPT No matching script. Please use EVAL.")
			return
		}
	} else {
		var err error
		if sha, err = s.scripts.load(string(args[1])); err != nil {
			c.err(err.Error())
			return
		}
	}
	s.scripts.run(c, sha, args[3:3+n], args[3+n:])
}

// parseNumKeys reads the numkeys argument EVAL and FCALL share (args[2]), checked against the
// arguments that follow it. It returns the error reply to send, or "".
func parseNumKeys(args [][]byte) (int, string) {
	n, ok := parseInt(args[2])
	switch {
	case !ok:
		return 0, errNotInt
	case n < 0:
		return 0, "ERR Number of keys can't be negative"
	case n > int64(len(args)-3):
		return 0, "ERR Number of keys can't be greater than number of args"
	}
	return int(n), ""
}

// invoke calls a FUNCTION library's function with (keys, args), as FCALL does.
func (sc *scripts) invoke(c *client, fn *lua.LFunction, what string, keys, argv [][]byte, readOnly bool) {
	L := sc.L
	sc.call(c, lua.P{Fn: fn, NRet: 1, Protect: true}, []lua.LValue{luaStrings(L, keys), luaStrings(L, argv)}, readOnly, scriptErrors{
		raised:  func(e string) string { return e },
		timeout: "ERR Error running " + what + ": exceeded the time limit of ",
		failed:  "ERR Error running " + what + ": ",
	})
}

// run calls a cached EVAL script, which reads its keys and args from the KEYS and ARGV globals.
func (sc *scripts) run(c *client, sha string, keys, argv [][]byte) {
	L := sc.L
	L.SetGlobal("KEYS", luaStrings(L, keys))
	L.SetGlobal("ARGV", luaStrings(L, argv))
	sc.call(c, lua.P{Fn: L.GetGlobal("f_" + sha), NRet: 1, Protect: true}, nil, false, scriptErrors{
		raised:  func(e string) string { return e + " script: " + sha },
		timeout: "ERR Error running script (call to f_" + sha + "): script exceeded the time limit of ",
		failed:  "ERR Error running script (call to f_" + sha + "): @user_script: ",
	})
}

// scriptErrors words a failed call the way Redis does, which differs between EVAL and FCALL.
type scriptErrors struct {
	raised  func(e string) string // an error table ({err=...}) raised by redis.call or error()
	timeout string                // followed by the configured limit
	failed  string                // followed by the Lua error
}

// call is the one path EVAL and FCALL share: under the script time limit, in the caller's
// database, with the writes wrapped so the AOF replays them atomically, and the Lua result
// turned into the caller's reply.
func (sc *scripts) call(c *client, p lua.P, params []lua.LValue, readOnly bool, msgs scriptErrors) {
	L := sc.L
	ctx, cancel := context.WithTimeout(context.Background(), sc.s.cfg.ScriptTimeout)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()
	sc.caller, sc.readOnly = c, readOnly
	// A script starts in its caller's database; a SELECT inside it stays inside it.
	sc.fake.db = c.db
	owner := sc.s.beginTxnProp()
	top := L.GetTop()
	err := L.CallByParam(p, params...)
	if owner {
		sc.s.endTxnProp()
	}
	sc.caller, sc.readOnly = nil, false
	c.replyErr, c.noPropagate = false, true
	if err != nil {
		L.SetTop(top)
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) {
			if t, ok := apiErr.Object.(*lua.LTable); ok {
				if e, ok := t.RawGetString("err").(lua.LString); ok {
					c.err(msgs.raised(string(e)))
					return
				}
			}
		}
		if ctx.Err() != nil {
			c.err(msgs.timeout + sc.s.cfg.ScriptTimeout.String())
			return
		}
		c.err(msgs.failed + trimLuaErr(err))
		return
	}
	ret := L.Get(-1)
	L.SetTop(top)
	luaToReply(c, ret)
	c.replyErr = false
}

// luaStrings builds the Lua array {items...}.
func luaStrings(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, lua.LString(it))
	}
	return t
}

// redisCall implements redis.call (raise on error) and redis.pcall (return the error table).
func (sc *scripts) redisCall(L *lua.LState, raise bool) int {
	nargs := L.GetTop()
	fail := func(msg string) int {
		if raise {
			t := L.NewTable()
			t.RawSetString("err", lua.LString(msg))
			L.Error(t, 1)
			return 0
		}
		return tableReply(L, "err", msg)
	}
	if sc.loadingLib {
		return fail("ERR redis.call can only be called inside a script invocation")
	}
	if nargs == 0 {
		return fail("ERR Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, nargs)
	for i := 1; i <= nargs; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(string(v))
		case lua.LNumber:
			args[i-1] = []byte(formatLuaNumber(float64(v)))
		default:
			return fail("ERR Lua redis lib command arguments must be strings or integers")
		}
	}
	s := sc.s
	cmd := s.lookup(args[0])
	if cmd == nil {
		return fail("ERR Unknown Redis command called from script")
	}
	if cmd.has(flagNoScript) {
		return fail("ERR This Redis command is not allowed from script")
	}
	if sc.readOnly && cmd.has(flagWrite) {
		return fail("ERR Write commands are not allowed from read-only scripts.")
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || len(args) < -cmd.arity {
		return fail("ERR Wrong number of args calling Redis command from script")
	}
	if s.cfg.Cluster != nil {
		for _, k := range cmd.keyArgs(args) {
			if !s.cfg.Cluster.Mine(cluster.Slot(k)) {
				return fail("ERR Script attempted to access a non local key in a cluster node")
			}
		}
	}
	f := sc.fake
	f.buf.Reset()
	s.call(f, cmd, args)
	if err := f.w.Flush(); err != nil {
		return fail("ERR " + err.Error())
	}
	v, _, err := parseReply(f.buf.Bytes())
	if err != nil {
		return fail("ERR " + err.Error())
	}
	if e, ok := v.(replyError); ok {
		return fail(string(e))
	}
	L.Push(replyToLua(L, v))
	return 1
}

func formatLuaNumber(f float64) string {
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

type (
	replyStatus string
	replyError  string
	replyNull   struct{}
)

// parseReply decodes one RESP2 reply produced by this server's writer.
func parseReply(b []byte) (any, []byte, error) {
	if len(b) < 3 {
		return nil, nil, errors.New("short reply")
	}
	i := strings.Index(string(b), "\r\n")
	if i < 0 {
		return nil, nil, errors.New("unterminated reply")
	}
	line, rest := string(b[1:i]), b[i+2:]
	switch b[0] {
	case '+':
		return replyStatus(line), rest, nil
	case '-':
		return replyError(line), rest, nil
	case ':':
		n, err := strconv.ParseInt(line, 10, 64)
		return n, rest, err
	case '$':
		n, err := strconv.Atoi(line)
		if err != nil {
			return nil, nil, err
		}
		if n < 0 {
			return replyNull{}, rest, nil
		}
		if len(rest) < n+2 {
			return nil, nil, errors.New("short bulk")
		}
		return string(rest[:n]), rest[n+2:], nil
	case '*':
		n, err := strconv.Atoi(line)
		if err != nil {
			return nil, nil, err
		}
		if n < 0 {
			return replyNull{}, rest, nil
		}
		arr := make([]any, n)
		for j := range arr {
			if arr[j], rest, err = parseReply(rest); err != nil {
				return nil, nil, err
			}
		}
		return arr, rest, nil
	}
	return nil, nil, fmt.Errorf("unexpected reply type %q", b[0])
}

// replyToLua converts as Redis does: integer → number, bulk → string, null → false,
// array → table, status → {ok=...}.
func replyToLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case replyStatus:
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(string(v)))
		return t
	case []any:
		t := L.CreateTable(len(v), 0)
		for i, e := range v {
			t.RawSetInt(i+1, replyToLua(L, e))
		}
		return t
	}
	return lua.LFalse
}

// luaToReply converts a script's return value: number → integer (truncated), string → bulk,
// table with ok/err → status/error, array table → array up to the first nil, true → 1,
// false/nil → null.
func luaToReply(c *client, v lua.LValue) {
	switch v := v.(type) {
	case lua.LNumber:
		c.w.Int(int64(v))
	case lua.LString:
		c.w.BulkString(string(v))
	case lua.LBool:
		if v {
			c.w.Int(1)
		} else {
			c.w.Null()
		}
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			c.err(string(e))
			return
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			c.w.Simple(string(s))
			return
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		c.w.Array(n)
		for i := 1; i <= n; i++ {
			luaToReply(c, v.RawGetInt(i))
		}
	default:
		c.w.Null()
	}
}
