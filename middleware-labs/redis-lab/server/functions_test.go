package server

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testLib = `#!lua name=mylib
redis.register_function('incrget', function(keys, args)
  redis.call('INCRBY', keys[1], args[1])
  return redis.call('GET', keys[1])
end)
redis.register_function{function_name='peek', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}
redis.register_function{function_name='sneaky', callback=function(keys) return redis.call('SET', keys[1], 'x') end, flags={'no-writes'}}
`

func TestFunctions(t *testing.T) {
	_, addr := start(t, Config{})
	rdb := newRedis(t, addr, 2)
	runSteps(t, rdb, []step{
		{args: []any{"FUNCTION", "LOAD", testLib}, want: "mylib"},
		{args: []any{"FUNCTION", "LOAD", testLib}, wantErr: "ERR Library 'mylib' already exists"},
		{args: []any{"FUNCTION", "LOAD", "REPLACE", testLib}, want: "mylib"},
		{args: []any{"FUNCTION", "LOAD", "return 1"}, wantErr: "ERR Missing library metadata"},
		{args: []any{"FUNCTION", "LOAD", "#!js name=x\n"}, wantErr: "ERR Engine 'js' not found"},
		{args: []any{"FUNCTION", "LOAD", "#!lua name=empty\nlocal x = 1"}, wantErr: "ERR No functions registered"},
		{args: []any{"FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('peek', function() return 1 end)"}, wantErr: "ERR Function peek already exists"},
		{args: []any{"FCALL", "incrget", "1", "counter", "5"}, want: "5"},
		{args: []any{"FCALL", "incrget", "1", "counter", "2"}, want: "7"},
		{args: []any{"FCALL_RO", "peek", "1", "counter"}, want: "7"},
		{args: []any{"FCALL_RO", "incrget", "1", "counter", "1"}, wantErr: "ERR Can not execute a script with write flag using *_ro command."},
		{args: []any{"FCALL", "sneaky", "1", "counter"}, wantErr: "ERR Write commands are not allowed from read-only scripts."},
		{args: []any{"FCALL", "nosuch", "0"}, wantErr: "ERR Function not found"},
		{args: []any{"FCALL", "peek", "2", "a"}, wantErr: "ERR Number of keys can't be greater than number of args"},
		{args: []any{"FCALL", "peek", "-1"}, wantErr: "ERR Number of keys can't be negative"},
		{args: []any{"FUNCTION", "DELETE", "nolib"}, wantErr: "ERR Library not found"},
	})
	libs, err := rdb.FunctionList(context.Background(), redisFunctionListQuery()).Result()
	require.NoError(t, err)
	require.Len(t, libs, 1)
	assert.Equal(t, "mylib", libs[0].Name)
	assert.Equal(t, "LUA", libs[0].Engine)
	assert.Len(t, libs[0].Functions, 3)
	runSteps(t, rdb, []step{
		{args: []any{"FUNCTION", "DELETE", "mylib"}, want: "OK"},
		{args: []any{"FCALL", "peek", "1", "counter"}, wantErr: "ERR Function not found"},
		{args: []any{"FUNCTION", "LOAD", testLib}, want: "mylib"},
		{args: []any{"FUNCTION", "FLUSH"}, want: "OK"},
		{args: []any{"FUNCTION", "LIST"}, want: []any{}},
	})
}

func redisFunctionListQuery() redis.FunctionListQuery { return redis.FunctionListQuery{WithCode: true} }
