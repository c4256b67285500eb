package executor

import (
	"fmt"
	"math"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
)

// binding is one table of the FROM clause and the row currently read from it.
type binding struct {
	table *Table
	alias string
	row   []Value
}

// evalEnv is what an expression can see: the rows of the current join step, the statement's
// arguments, the session, and the aggregates of the current group.
type evalEnv struct {
	tables []*binding
	args   []Value
	sess   *Session
	aggs   map[*sqlparser.FuncCall]Value
}

func (env *evalEnv) column(ref *sqlparser.ColumnRef) (Value, error) {
	for _, b := range env.tables {
		if ref.Table != "" && !strings.EqualFold(ref.Table, b.alias) && !strings.EqualFold(ref.Table, b.table.Name) {
			continue
		}
		if c := b.table.column(ref.Name); c >= 0 {
			if b.row == nil {
				return nil, nil
			}
			return b.row[c], nil
		}
	}
	return nil, unknownColumn(ref.Name)
}

func truthy(v Value) bool {
	switch x := v.(type) {
	case nil:
		return false
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return toFloat(x) != 0
	}
	return false
}

func boolValue(b bool) Value {
	if b {
		return int64(1)
	}
	return int64(0)
}

func eval(e sqlparser.Expr, env *evalEnv) (Value, error) {
	switch x := e.(type) {
	case *sqlparser.Literal:
		return x.Value, nil
	case *sqlparser.Param:
		if x.Index >= len(env.args) {
			return nil, &Error{Code: 1210, State: "HY000", Msg: "Incorrect arguments to mysqld_stmt_execute"}
		}
		return env.args[x.Index], nil
	case *sqlparser.ColumnRef:
		return env.column(x)
	case *sqlparser.Variable:
		return env.sess.variable(x)
	case *sqlparser.NotExpr:
		v, err := eval(x.E, env)
		if err != nil || v == nil {
			return nil, err
		}
		return boolValue(!truthy(v)), nil
	case *sqlparser.Neg:
		v, err := eval(x.E, env)
		if err != nil || v == nil {
			return nil, err
		}
		if i, ok := v.(int64); ok {
			return -i, nil
		}
		return -toFloat(v), nil
	case *sqlparser.BinaryExpr:
		return evalBinary(x, env)
	case *sqlparser.Between:
		v, err := eval(x.E, env)
		if err != nil {
			return nil, err
		}
		lo, err := eval(x.Lo, env)
		if err != nil {
			return nil, err
		}
		hi, err := eval(x.Hi, env)
		if err != nil {
			return nil, err
		}
		c1, ok1 := compare(v, lo)
		c2, ok2 := compare(v, hi)
		if !ok1 || !ok2 {
			return nil, nil
		}
		return boolValue((c1 >= 0 && c2 <= 0) != x.Not), nil
	case *sqlparser.InList:
		v, err := eval(x.E, env)
		if err != nil || v == nil {
			return nil, err
		}
		found := false
		for _, item := range x.List {
			iv, err := eval(item, env)
			if err != nil {
				return nil, err
			}
			if c, ok := compare(v, iv); ok && c == 0 {
				found = true
				break
			}
		}
		return boolValue(found != x.Not), nil
	case *sqlparser.Like:
		v, err := eval(x.E, env)
		if err != nil {
			return nil, err
		}
		p, err := eval(x.Pattern, env)
		if err != nil {
			return nil, err
		}
		if v == nil || p == nil {
			return nil, nil
		}
		return boolValue(likeMatch(formatValue(v), formatValue(p)) != x.Not), nil
	case *sqlparser.IsNull:
		v, err := eval(x.E, env)
		if err != nil {
			return nil, err
		}
		return boolValue((v == nil) != x.Not), nil
	case *sqlparser.FuncCall:
		if isAggregate(x.Name) {
			if env.aggs == nil {
				return nil, &Error{Code: 1111, State: "HY000", Msg: "Invalid use of group function"}
			}
			return env.aggs[x], nil
		}
		return evalFunc(x, env)
	}
	return nil, fmt.Errorf("cannot evaluate %T", e)
}

func evalBinary(x *sqlparser.BinaryExpr, env *evalEnv) (Value, error) {
	l, err := eval(x.L, env)
	if err != nil {
		return nil, err
	}
	switch x.Op {
	case "AND":
		if l != nil && !truthy(l) {
			return int64(0), nil
		}
		r, err := eval(x.R, env)
		if err != nil {
			return nil, err
		}
		if r != nil && !truthy(r) {
			return int64(0), nil
		}
		if l == nil || r == nil {
			return nil, nil
		}
		return int64(1), nil
	case "OR":
		if l != nil && truthy(l) {
			return int64(1), nil
		}
		r, err := eval(x.R, env)
		if err != nil {
			return nil, err
		}
		if r != nil && truthy(r) {
			return int64(1), nil
		}
		if l == nil || r == nil {
			return nil, nil
		}
		return int64(0), nil
	}
	r, err := eval(x.R, env)
	if err != nil {
		return nil, err
	}
	switch x.Op {
	case "=", "!=", "<", "<=", ">", ">=":
		c, ok := compare(l, r)
		if !ok {
			return nil, nil
		}
		switch x.Op {
		case "=":
			return boolValue(c == 0), nil
		case "!=":
			return boolValue(c != 0), nil
		case "<":
			return boolValue(c < 0), nil
		case "<=":
			return boolValue(c <= 0), nil
		case ">":
			return boolValue(c > 0), nil
		}
		return boolValue(c >= 0), nil
	}
	if l == nil || r == nil {
		return nil, nil
	}
	li, lInt := l.(int64)
	ri, rInt := r.(int64)
	if lInt && rInt && x.Op != "/" {
		switch x.Op {
		case "+":
			return li + ri, nil
		case "-":
			return li - ri, nil
		case "*":
			return li * ri, nil
		case "%":
			if ri == 0 {
				return nil, nil
			}
			return li % ri, nil
		}
	}
	lf, rf := toFloat(l), toFloat(r)
	switch x.Op {
	case "+":
		return lf + rf, nil
	case "-":
		return lf - rf, nil
	case "*":
		return lf * rf, nil
	case "/":
		if rf == 0 {
			return nil, nil
		}
		return lf / rf, nil
	case "%":
		if rf == 0 {
			return nil, nil
		}
		return math.Mod(lf, rf), nil
	}
	return nil, fmt.Errorf("unknown operator %s", x.Op)
}

func isAggregate(name string) bool {
	switch name {
	case "COUNT", "SUM", "MIN", "MAX", "AVG":
		return true
	}
	return false
}

func evalFunc(f *sqlparser.FuncCall, env *evalEnv) (Value, error) {
	args := make([]Value, len(f.Args))
	for i, a := range f.Args {
		v, err := eval(a, env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	arg := func(i int) Value {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	switch f.Name {
	case "DATABASE", "SCHEMA":
		return env.sess.db, nil
	case "VERSION":
		return ServerVersion, nil
	case "CONNECTION_ID":
		return int64(env.sess.id), nil
	case "LAST_INSERT_ID":
		return env.sess.lastInsertID, nil
	case "NOW", "CURRENT_TIMESTAMP", "SYSDATE":
		return env.sess.ex.now().UTC().Format("2006-01-02 15:04:05"), nil
	case "USER", "CURRENT_USER":
		return "root@localhost", nil
	}
	if arg(0) == nil && f.Name != "CONCAT" && f.Name != "COALESCE" && f.Name != "IFNULL" {
		return nil, nil
	}
	switch f.Name {
	case "LOWER", "LCASE":
		return strings.ToLower(formatValue(arg(0))), nil
	case "UPPER", "UCASE":
		return strings.ToUpper(formatValue(arg(0))), nil
	case "LENGTH", "CHAR_LENGTH":
		return int64(len(formatValue(arg(0)))), nil
	case "ABS":
		if i, ok := arg(0).(int64); ok {
			if i < 0 {
				return -i, nil
			}
			return i, nil
		}
		return math.Abs(toFloat(arg(0))), nil
	case "YEAR", "MONTH", "DAY", "DATE":
		s := formatValue(arg(0))
		switch {
		case f.Name == "YEAR" && len(s) >= 4:
			return int64(toFloat(s[:4])), nil
		case f.Name == "MONTH" && len(s) >= 7:
			return int64(toFloat(s[5:7])), nil
		case f.Name == "DAY" && len(s) >= 10:
			return int64(toFloat(s[8:10])), nil
		case f.Name == "DATE" && len(s) >= 10:
			return s[:10], nil
		}
		return nil, nil
	case "SUBSTRING", "SUBSTR", "LEFT":
		s := formatValue(arg(0))
		start, n := 1, len(s)
		if f.Name == "LEFT" {
			n = int(toFloat(arg(1)))
		} else {
			start = int(toFloat(arg(1)))
			if len(args) > 2 {
				n = int(toFloat(arg(2)))
			}
		}
		if start < 1 || start > len(s) || n <= 0 {
			return "", nil
		}
		end := min(len(s), start-1+n)
		return s[start-1 : end], nil
	case "CONCAT":
		var b strings.Builder
		for _, a := range args {
			if a == nil {
				return nil, nil
			}
			b.WriteString(formatValue(a))
		}
		return b.String(), nil
	case "COALESCE", "IFNULL":
		for _, a := range args {
			if a != nil {
				return a, nil
			}
		}
		return nil, nil
	}
	return nil, &Error{Code: 1305, State: "42000", Msg: fmt.Sprintf("FUNCTION test.%s does not exist", strings.ToLower(f.Name))}
}

// likeMatch is SQL LIKE: % any run, _ one byte, \ escapes.
func likeMatch(s, p string) bool {
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch {
			case p[pi] == '\\' && pi+1 < len(p) && p[pi+1] == s[si]:
				si++
				pi += 2
				continue
			case p[pi] == '%':
				star, mark = pi, si
				pi++
				continue
			case p[pi] == '_' || p[pi] == s[si]:
				si++
				pi++
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi = star + 1
		mark++
		si = mark
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}
