package server

import (
	"context"
	"errors"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
)

// Redis 7 functions on the same gopher-lua VM as EVAL: FUNCTION LOAD runs a library's code once,
// in an environment of its own where redis.register_function records its functions; FCALL
// calls one with (keys, args), atomically under the executor lock like a script.

type luaLibrary struct {
	name  string
	code  string
	funcs map[string]*luaFunction
}

type luaFunction struct {
	name    string
	fn      *lua.LFunction
	noWrite bool
}

type functionRegistry struct {
	libs    map[string]*luaLibrary
	funcs   map[string]*luaFunction
	loading *luaLibrary // the library whose code is running in FUNCTION LOAD
}

// parseShebang reads "#!lua name=<lib>" from the first line.
func parseShebang(code string) (string, string) {
	first, _, _ := strings.Cut(code, "\n")
	if !strings.HasPrefix(first, "#!") {
		return "", "ERR Missing library metadata"
	}
	parts := strings.Fields(first[2:])
	if len(parts) == 0 || parts[0] != "lua" {
		engine := ""
		if len(parts) > 0 {
			engine = parts[0]
		}
		return "", "ERR Engine '" + engine + "' not found"
	}
	name := ""
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k != "name" {
			return "", "ERR Invalid metadata value given: " + p
		}
		name = v
	}
	if name == "" {
		return "", "ERR Library name was not given"
	}
	return name, ""
}

func (sc *scripts) functions() *functionRegistry {
	if sc.fns == nil {
		sc.fns = &functionRegistry{libs: map[string]*luaLibrary{}, funcs: map[string]*luaFunction{}}
	}
	return sc.fns
}

// registerFunction is redis.register_function(name, callback) or
// redis.register_function{function_name=..., callback=..., flags={...}}.
func (sc *scripts) registerFunction(L *lua.LState) int {
	reg := sc.functions()
	lib := reg.loading
	if lib == nil {
		L.RaiseError("redis.register_function can only be called on FUNCTION LOAD command")
		return 0
	}
	f := &luaFunction{}
	switch a := L.Get(1).(type) {
	case lua.LString:
		f.name = string(a)
		cb, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			L.RaiseError("callback argument given to redis.register_function must be a function")
		}
		f.fn = cb
	case *lua.LTable:
		name, _ := a.RawGetString("function_name").(lua.LString)
		cb, ok := a.RawGetString("callback").(*lua.LFunction)
		if name == "" || !ok {
			L.RaiseError("redis.register_function: function_name and callback are required")
		}
		f.name, f.fn = string(name), cb
		if flags, ok := a.RawGetString("flags").(*lua.LTable); ok {
			flags.ForEach(func(_, v lua.LValue) {
				if v.String() == "no-writes" {
					f.noWrite = true
				}
			})
		}
	default:
		L.RaiseError("wrong number of arguments to redis.register_function")
	}
	if _, dup := lib.funcs[f.name]; dup {
		L.RaiseError("Function already exists in the library")
	}
	lib.funcs[f.name] = f
	return 0
}

func cmdFunction(s *Server, c *client, args [][]byte) {
	sc := s.scripts
	reg := sc.functions()
	switch resp.Lower(args[1]) {
	case "load":
		replace := false
		rest := args[2:]
		if len(rest) == 2 && resp.Equal(rest[0], "replace") {
			replace, rest = true, rest[1:]
		}
		if len(rest) != 1 {
			c.err(errArity("function|load"))
			return
		}
		code := string(rest[0])
		name, msg := parseShebang(code)
		if msg != "" {
			c.err(msg)
			return
		}
		old, exists := reg.libs[name]
		if exists && !replace {
			c.err("ERR Library '" + name + "' already exists")
			return
		}
		lib := &luaLibrary{name: name, code: code, funcs: map[string]*luaFunction{}}
		if err := sc.loadLibrary(lib); err != nil {
			c.err(err.Error())
			return
		}
		if len(lib.funcs) == 0 {
			c.err("ERR No functions registered")
			return
		}
		for fn := range lib.funcs {
			if other, ok := reg.funcs[fn]; ok && (!exists || old.funcs[fn] != other) {
				c.err("ERR Function " + fn + " already exists")
				return
			}
		}
		if exists {
			for fn := range old.funcs {
				delete(reg.funcs, fn)
			}
		}
		reg.libs[name] = lib
		for fn, f := range lib.funcs {
			reg.funcs[fn] = f
		}
		c.w.BulkString(name)
	case "delete":
		if len(args) != 3 {
			c.err(errArity("function|delete"))
			return
		}
		lib, ok := reg.libs[string(args[2])]
		if !ok {
			c.err("ERR Library not found")
			return
		}
		for fn := range lib.funcs {
			delete(reg.funcs, fn)
		}
		delete(reg.libs, lib.name)
		c.ok()
	case "flush":
		if len(args) > 3 || (len(args) == 3 && !resp.Equal(args[2], "async") && !resp.Equal(args[2], "sync")) {
			c.err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
			return
		}
		sc.fns = nil
		c.ok()
	case "list":
		withCode := false
		var pattern []byte
		for i := 2; i < len(args); i++ {
			switch {
			case resp.Equal(args[i], "withcode"):
				withCode = true
			case resp.Equal(args[i], "libraryname") && i+1 < len(args):
				pattern = args[i+1]
				i++
			default:
				c.err("ERR Unknown argument " + string(args[i]))
				return
			}
		}
		names := make([]string, 0, len(reg.libs))
		for n := range reg.libs {
			if pattern == nil || globMatch(pattern, []byte(n)) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		c.w.Array(len(names))
		for _, n := range names {
			lib := reg.libs[n]
			fields := 3
			if withCode {
				fields++
			}
			c.w.Map(fields)
			c.w.BulkString("library_name")
			c.w.BulkString(lib.name)
			c.w.BulkString("engine")
			c.w.BulkString("LUA")
			c.w.BulkString("functions")
			fnames := make([]string, 0, len(lib.funcs))
			for fn := range lib.funcs {
				fnames = append(fnames, fn)
			}
			sort.Strings(fnames)
			c.w.Array(len(fnames))
			for _, fn := range fnames {
				c.w.Map(3)
				c.w.BulkString("name")
				c.w.BulkString(fn)
				c.w.BulkString("description")
				c.w.Null()
				c.w.BulkString("flags")
				if lib.funcs[fn].noWrite {
					c.w.Set(1)
					c.w.BulkString("no-writes")
				} else {
					c.w.Set(0)
				}
			}
			if withCode {
				c.w.BulkString("library_code")
				c.w.BulkString(lib.code)
			}
		}
	default:
		c.err(unknownSubcommand(args[1], "function"))
	}
}

// loadLibrary runs the library's code with redis.register_function available and redis.call
// not (as Redis: a library only declares functions when it loads).
func (sc *scripts) loadLibrary(lib *luaLibrary) error {
	L := sc.L
	body := lib.code[strings.Index(lib.code+"\n", "\n"):]
	fn, err := L.LoadString(body)
	if err != nil {
		return errors.New("ERR Error compiling function: " + trimLuaErr(err))
	}
	reg := sc.functions()
	reg.loading = lib
	defer func() { reg.loading = nil }()
	ctx, cancel := context.WithTimeout(context.Background(), sc.s.cfg.ScriptTimeout)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()
	sc.loadingLib = true
	defer func() { sc.loadingLib = false }()
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
		return errors.New("ERR Error registering functions: " + trimLuaErr(err))
	}
	return nil
}

func cmdFCall(s *Server, c *client, args [][]byte) {
	f, ok := s.scripts.functions().funcs[string(args[1])]
	if !ok {
		c.err("ERR Function not found")
		return
	}
	n, errReply := parseNumKeys(args)
	if errReply != "" {
		c.err(errReply)
		return
	}
	ro := resp.Equal(args[0], "fcall_ro")
	if ro && !f.noWrite {
		c.err("ERR Can not execute a script with write flag using *_ro command.")
		return
	}
	s.scripts.invoke(c, f.fn, "function "+f.name, args[3:3+n], args[3+n:], ro || f.noWrite)
}
