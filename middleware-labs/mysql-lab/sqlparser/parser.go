package sqlparser

import (
	"strconv"
	"strings"
)

// maxDepth bounds expression nesting so hostile input like "((((((..." is an error, not a stack
// overflow.
const maxDepth = 200

type parser struct {
	src    string
	toks   []token
	i      int
	depth  int
	params int
}

// Parse parses one SQL statement (a trailing semicolon is allowed).
func Parse(sql string) (Statement, error) {
	st, _, err := ParseWithParams(sql)
	return st, err
}

// ParseWithParams parses one statement and also returns how many ? placeholders it has, which is
// what COM_STMT_PREPARE reports to the client.
func ParseWithParams(sql string) (Statement, int, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, 0, err
	}
	p := &parser{src: sql, toks: toks}
	st, err := p.statement()
	if err != nil {
		return nil, 0, err
	}
	p.accept(";")
	if p.peek().kind != tokEOF {
		return nil, 0, p.errorf("the end of the statement")
	}
	return st, p.params, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+n]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// is reports whether the current token is the keyword or operator word (case-insensitive).
func (p *parser) is(word string) bool { return tokIs(p.peek(), word) }

func tokIs(t token, word string) bool {
	switch t.kind {
	case tokIdent:
		return strings.EqualFold(t.text, word)
	case tokOp:
		return t.text == word
	}
	return false
}

func (p *parser) accept(word string) bool {
	if p.is(word) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(word string) error {
	if !p.accept(word) {
		return p.errorf(word)
	}
	return nil
}

func (p *parser) errorf(expected string) error {
	return syntaxErr(p.src, p.peek().pos, expected)
}

// reserved words cannot be bare identifiers; the list is the part of MySQL's that this grammar uses.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "ORDER": true,
	"BY": true, "GROUP": true, "LIMIT": true, "INSERT": true, "INTO": true, "VALUES": true, "UPDATE": true,
	"SET": true, "DELETE": true, "CREATE": true, "TABLE": true, "INDEX": true, "DROP": true, "ON": true,
	"JOIN": true, "INNER": true, "LEFT": true, "IN": true, "IS": true, "NULL": true, "LIKE": true,
	"BETWEEN": true, "AS": true, "FOR": true, "PRIMARY": true, "KEY": true, "UNIQUE": true,
	"DISTINCT": true, "ASC": true, "DESC": true, "OFFSET": false, "HAVING": true, "EXPLAIN": true,
}

func (p *parser) ident(what string) (string, error) {
	t := p.peek()
	if t.kind == tokQuotedIdent || (t.kind == tokIdent && !reserved[strings.ToUpper(t.text)]) {
		p.i++
		return t.text, nil
	}
	return "", p.errorf(what)
}

// tableName reads [db.]table and drops the database: the lab has one.
func (p *parser) tableName() (string, error) {
	name, err := p.ident("a table name")
	if err != nil {
		return "", err
	}
	if p.accept(".") {
		return p.ident("a table name after the database")
	}
	return name, nil
}

func (p *parser) statement() (Statement, error) {
	t := p.peek()
	if t.kind != tokIdent {
		return nil, p.errorf("a statement")
	}
	switch strings.ToUpper(t.text) {
	case "SELECT":
		return p.selectStmt()
	case "INSERT", "REPLACE":
		return p.insert()
	case "UPDATE":
		return p.update()
	case "DELETE":
		return p.deleteStmt()
	case "CREATE":
		return p.create()
	case "DROP":
		return p.drop()
	case "BEGIN":
		p.next()
		p.accept("WORK")
		return &Begin{}, nil
	case "START":
		p.next()
		if err := p.expect("TRANSACTION"); err != nil {
			return nil, err
		}
		return &Begin{}, nil
	case "COMMIT":
		p.next()
		p.accept("WORK")
		return &Commit{}, nil
	case "ROLLBACK":
		p.next()
		p.accept("WORK")
		return &Rollback{}, nil
	case "EXPLAIN", "DESCRIBE", "DESC":
		p.next()
		if p.is("SELECT") {
			s, err := p.selectStmt()
			if err != nil {
				return nil, err
			}
			return &Explain{Stmt: s}, nil
		}
		if p.is("UPDATE") || p.is("DELETE") {
			s, err := p.statement()
			if err != nil {
				return nil, err
			}
			return &Explain{Stmt: s}, nil
		}
		return nil, p.errorf("SELECT, UPDATE or DELETE after EXPLAIN")
	case "SHOW":
		return p.show()
	case "SET":
		return p.set()
	case "USE":
		p.next()
		db, err := p.ident("a database name")
		if err != nil {
			return nil, err
		}
		return &Use{DB: db}, nil
	}
	return nil, p.errorf("a statement")
}

func (p *parser) show() (Statement, error) {
	p.next()
	p.accept("FULL")
	p.accept("GLOBAL")
	p.accept("SESSION")
	switch {
	case p.accept("ENGINE"):
		if !p.accept("INNODB") {
			return nil, p.errorf("INNODB")
		}
		if err := p.expect("STATUS"); err != nil {
			return nil, err
		}
		return &Show{What: "ENGINE INNODB STATUS"}, nil
	case p.accept("TABLES"):
		return &Show{What: "TABLES"}, nil
	case p.accept("DATABASES"):
		return &Show{What: "DATABASES"}, nil
	case p.accept("WARNINGS"):
		return &Show{What: "WARNINGS"}, nil
	case p.accept("INDEX"), p.accept("INDEXES"), p.accept("KEYS"):
		if !p.accept("FROM") && !p.accept("IN") {
			return nil, p.errorf("FROM")
		}
		t, err := p.tableName()
		if err != nil {
			return nil, err
		}
		return &Show{What: "INDEX", Table: t}, nil
	case p.accept("VARIABLES"), p.accept("STATUS"):
		what := strings.ToUpper(p.toks[p.i-1].text)
		s := &Show{What: what}
		if p.accept("LIKE") {
			t := p.next()
			if t.kind != tokString {
				return nil, p.errorf("a pattern string")
			}
			s.Like = t.text
		}
		return s, nil
	}
	return nil, p.errorf("ENGINE INNODB STATUS, TABLES, DATABASES, INDEX, VARIABLES or WARNINGS")
}

func (p *parser) set() (Statement, error) {
	p.next()
	if p.accept("NAMES") {
		t := p.next()
		if t.kind != tokIdent && t.kind != tokString && t.kind != tokQuotedIdent {
			return nil, p.errorf("a character set name")
		}
		if p.accept("COLLATE") {
			p.next()
		}
		return &Set{Names: t.text}, nil
	}
	s := &Set{}
	for {
		p.accept("SESSION")
		p.accept("GLOBAL")
		p.accept("LOCAL")
		var name string
		if t := p.peek(); t.kind == tokVariable {
			p.next()
			name = strings.ToLower(strings.TrimLeft(t.text, "@"))
			name = strings.TrimPrefix(strings.TrimPrefix(name, "session."), "global.")
		} else {
			n, err := p.ident("a variable name")
			if err != nil {
				return nil, err
			}
			name = strings.ToLower(n)
			if p.accept(".") { // SET SESSION transaction.isolation style names
				m, err := p.ident("a variable name")
				if err != nil {
					return nil, err
				}
				name += "." + strings.ToLower(m)
			}
		}
		if name == "transaction" { // SET TRANSACTION ISOLATION LEVEL ...: accepted, one level exists
			for p.peek().kind == tokIdent {
				p.next()
			}
			s.Vars = append(s.Vars, Assignment{Name: "transaction", Value: &Literal{Value: nil}})
		} else {
			if !p.accept("=") && !p.accept(":") {
				return nil, p.errorf("=")
			}
			v, err := p.expr()
			if err != nil {
				return nil, err
			}
			s.Vars = append(s.Vars, Assignment{Name: name, Value: v})
		}
		if !p.accept(",") {
			return s, nil
		}
	}
}

func (p *parser) create() (Statement, error) {
	p.next()
	unique := p.accept("UNIQUE")
	if p.accept("INDEX") {
		name, err := p.ident("an index name")
		if err != nil {
			return nil, err
		}
		if err := p.expect("ON"); err != nil {
			return nil, err
		}
		table, err := p.tableName()
		if err != nil {
			return nil, err
		}
		cols, err := p.columnList()
		if err != nil {
			return nil, err
		}
		return &CreateIndex{Index: IndexDef{Name: name, Columns: cols, Unique: unique}, Table: table}, nil
	}
	if unique {
		return nil, p.errorf("INDEX")
	}
	if err := p.expect("TABLE"); err != nil {
		return nil, err
	}
	ct := &CreateTable{}
	if p.accept("IF") {
		if err := p.expect("NOT"); err != nil {
			return nil, err
		}
		if err := p.expect("EXISTS"); err != nil {
			return nil, err
		}
		ct.IfNotExists = true
	}
	var err error
	if ct.Name, err = p.tableName(); err != nil {
		return nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	for {
		switch {
		case p.accept("PRIMARY"):
			if err := p.expect("KEY"); err != nil {
				return nil, err
			}
			if ct.PrimaryKey, err = p.columnList(); err != nil {
				return nil, err
			}
		case p.is("UNIQUE") || p.is("INDEX") || p.is("KEY"):
			idx := IndexDef{Unique: p.accept("UNIQUE")}
			if !p.accept("INDEX") {
				p.accept("KEY")
			}
			if !p.is("(") {
				if idx.Name, err = p.ident("an index name"); err != nil {
					return nil, err
				}
			}
			if idx.Columns, err = p.columnList(); err != nil {
				return nil, err
			}
			ct.Indexes = append(ct.Indexes, idx)
		default:
			col, err := p.columnDef()
			if err != nil {
				return nil, err
			}
			ct.Columns = append(ct.Columns, col)
		}
		if p.accept(")") {
			break
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
	// Table options (ENGINE=InnoDB DEFAULT CHARSET=utf8mb4) are accepted and ignored.
	for p.peek().kind == tokIdent || p.is("=") {
		p.next()
	}
	return ct, nil
}

var columnTypes = map[string]string{
	"INT": "INT", "INTEGER": "INT", "TINYINT": "INT", "SMALLINT": "INT", "MEDIUMINT": "INT",
	"BIGINT": "BIGINT", "VARCHAR": "VARCHAR", "CHAR": "CHAR", "TEXT": "TEXT", "DATETIME": "DATETIME",
	"TIMESTAMP": "DATETIME", "DATE": "DATETIME", "DOUBLE": "DOUBLE", "FLOAT": "DOUBLE", "DECIMAL": "DOUBLE",
}

func (p *parser) columnDef() (ColumnDef, error) {
	var c ColumnDef
	var err error
	if c.Name, err = p.ident("a column name"); err != nil {
		return c, err
	}
	t := p.next()
	typ, ok := columnTypes[strings.ToUpper(t.text)]
	if t.kind != tokIdent || !ok {
		p.i--
		return c, p.errorf("a column type (INT, BIGINT, VARCHAR, CHAR, TEXT, DATETIME)")
	}
	c.Type = typ
	if p.accept("(") {
		n := p.next()
		if n.kind != tokNumber {
			p.i--
			return c, p.errorf("a size")
		}
		c.Size, _ = strconv.Atoi(n.text)
		if p.accept(",") { // DECIMAL(10,2)
			p.next()
		}
		if err := p.expect(")"); err != nil {
			return c, err
		}
	}
	for {
		switch {
		case p.accept("UNSIGNED"), p.accept("SIGNED"):
		case p.accept("NOT"):
			if err := p.expect("NULL"); err != nil {
				return c, err
			}
			c.NotNull = true
		case p.accept("NULL"):
		case p.accept("AUTO_INCREMENT"):
			c.AutoIncrement = true
		case p.accept("PRIMARY"):
			if err := p.expect("KEY"); err != nil {
				return c, err
			}
			c.PrimaryKey = true
		case p.accept("DEFAULT"):
			if c.Default, err = p.primary(); err != nil {
				return c, err
			}
		case p.accept("COMMENT"):
			p.next()
		default:
			return c, nil
		}
	}
}

func (p *parser) columnList() ([]string, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var cols []string
	for {
		c, err := p.ident("a column name")
		if err != nil {
			return nil, err
		}
		if p.accept("(") { // prefix length: KEY (c(10))
			p.next()
			if err := p.expect(")"); err != nil {
				return nil, err
			}
		}
		p.accept("ASC")
		p.accept("DESC")
		cols = append(cols, c)
		if p.accept(")") {
			return cols, nil
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}

func (p *parser) drop() (Statement, error) {
	p.next()
	if p.accept("INDEX") {
		name, err := p.ident("an index name")
		if err != nil {
			return nil, err
		}
		if err := p.expect("ON"); err != nil {
			return nil, err
		}
		t, err := p.tableName()
		if err != nil {
			return nil, err
		}
		return &DropIndex{Name: name, Table: t}, nil
	}
	if err := p.expect("TABLE"); err != nil {
		return nil, err
	}
	d := &DropTable{}
	if p.accept("IF") {
		if err := p.expect("EXISTS"); err != nil {
			return nil, err
		}
		d.IfExists = true
	}
	var err error
	d.Name, err = p.tableName()
	return d, err
}

func (p *parser) insert() (Statement, error) {
	p.next()
	p.accept("IGNORE")
	if err := p.expect("INTO"); err != nil {
		return nil, err
	}
	ins := &Insert{}
	var err error
	if ins.Table, err = p.tableName(); err != nil {
		return nil, err
	}
	if p.is("(") {
		if ins.Columns, err = p.columnList(); err != nil {
			return nil, err
		}
	}
	if !p.accept("VALUES") && !p.accept("VALUE") {
		return nil, p.errorf("VALUES")
	}
	for {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var row []Expr
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			row = append(row, e)
			if p.accept(")") {
				break
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		ins.Rows = append(ins.Rows, row)
		if !p.accept(",") {
			return ins, nil
		}
	}
}

func (p *parser) update() (Statement, error) {
	p.next()
	u := &Update{}
	var err error
	if u.Table, err = p.tableName(); err != nil {
		return nil, err
	}
	if err := p.expect("SET"); err != nil {
		return nil, err
	}
	for {
		col, err := p.ident("a column name")
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		u.Set = append(u.Set, Assignment{Name: col, Value: v})
		if !p.accept(",") {
			break
		}
	}
	if p.accept("WHERE") {
		if u.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (p *parser) deleteStmt() (Statement, error) {
	p.next()
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	d := &Delete{}
	var err error
	if d.Table, err = p.tableName(); err != nil {
		return nil, err
	}
	if p.accept("WHERE") {
		if d.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (p *parser) selectStmt() (*Select, error) {
	p.next()
	s := &Select{}
	s.Distinct = p.accept("DISTINCT")
	p.accept("SQL_NO_CACHE")
	for {
		if p.accept("*") {
			s.Exprs = append(s.Exprs, SelectExpr{Star: true})
		} else {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			item := SelectExpr{Expr: e}
			if p.accept("AS") {
				t := p.next()
				if t.kind != tokIdent && t.kind != tokQuotedIdent && t.kind != tokString {
					p.i--
					return nil, p.errorf("an alias")
				}
				item.Alias = t.text
			} else if t := p.peek(); t.kind == tokQuotedIdent || (t.kind == tokIdent && !reserved[strings.ToUpper(t.text)]) {
				item.Alias = p.next().text
			}
			s.Exprs = append(s.Exprs, item)
		}
		if !p.accept(",") {
			break
		}
	}
	var err error
	if p.accept("FROM") {
		ref, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		s.From = append(s.From, ref)
		if p.accept(",") {
			ref, err := p.tableRef()
			if err != nil {
				return nil, err
			}
			s.From = append(s.From, ref)
		} else {
			p.accept("INNER")
			p.accept("CROSS")
			if p.accept("JOIN") {
				ref, err := p.tableRef()
				if err != nil {
					return nil, err
				}
				if err := p.expect("ON"); err != nil {
					return nil, err
				}
				if ref.On, err = p.expr(); err != nil {
					return nil, err
				}
				s.From = append(s.From, ref)
			}
		}
	}
	if p.accept("WHERE") {
		if s.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.accept("GROUP") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			s.GroupBy = append(s.GroupBy, e)
			if !p.accept(",") {
				break
			}
		}
	}
	if p.accept("ORDER") {
		if err := p.expect("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			item := OrderItem{Expr: e}
			if p.accept("DESC") {
				item.Desc = true
			} else {
				p.accept("ASC")
			}
			s.OrderBy = append(s.OrderBy, item)
			if !p.accept(",") {
				break
			}
		}
	}
	if p.accept("LIMIT") {
		first, err := p.primary()
		if err != nil {
			return nil, err
		}
		switch {
		case p.accept(","): // LIMIT offset, count
			s.Offset = first
			if s.Limit, err = p.primary(); err != nil {
				return nil, err
			}
		case p.accept("OFFSET"):
			s.Limit = first
			if s.Offset, err = p.primary(); err != nil {
				return nil, err
			}
		default:
			s.Limit = first
		}
	}
	if p.accept("FOR") {
		if err := p.expect("UPDATE"); err != nil {
			return nil, err
		}
		s.ForUpdate = true
	} else if p.accept("LOCK") {
		for _, w := range []string{"IN", "SHARE", "MODE"} {
			if err := p.expect(w); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func (p *parser) tableRef() (TableRef, error) {
	name, err := p.tableName()
	if err != nil {
		return TableRef{}, err
	}
	ref := TableRef{Name: name}
	if p.accept("AS") {
		if ref.Alias, err = p.ident("an alias"); err != nil {
			return ref, err
		}
	} else if t := p.peek(); t.kind == tokQuotedIdent || (t.kind == tokIdent && !reserved[strings.ToUpper(t.text)] && !tokIs(t, "OFFSET")) {
		ref.Alias = p.next().text
	}
	return ref, nil
}

// expr parses with MySQL's precedence: OR < AND < NOT < comparison < + - < * / % < unary.
func (p *parser) expr() (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf("a less deeply nested expression")
	}
	return p.or()
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.accept("OR") || p.accept("||") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Op: "OR", L: l, R: r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.accept("AND") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Op: "AND", L: l, R: r}
	}
	return l, nil
}

func (p *parser) not() (Expr, error) {
	if p.accept("NOT") {
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errorf("a less deeply nested expression")
		}
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return &NotExpr{E: e}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tokOp && (t.text == "=" || t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">=" || t.text == "!=" || t.text == "<>"):
			p.next()
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			op := t.text
			if op == "<>" {
				op = "!="
			}
			l = &BinaryExpr{Op: op, L: l, R: r}
		case p.is("IS"):
			p.next()
			not := p.accept("NOT")
			if err := p.expect("NULL"); err != nil {
				return nil, err
			}
			l = &IsNull{E: l, Not: not}
		case p.is("NOT") && (tokIs(p.peekAt(1), "IN") || tokIs(p.peekAt(1), "BETWEEN") || tokIs(p.peekAt(1), "LIKE")):
			p.next()
			if l, err = p.predicate(l, true); err != nil {
				return nil, err
			}
		case p.is("IN") || p.is("BETWEEN") || p.is("LIKE"):
			if l, err = p.predicate(l, false); err != nil {
				return nil, err
			}
		default:
			return l, nil
		}
	}
}

func (p *parser) predicate(l Expr, not bool) (Expr, error) {
	switch {
	case p.accept("IN"):
		if err := p.expect("("); err != nil {
			return nil, err
		}
		in := &InList{E: l, Not: not}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, e)
			if p.accept(")") {
				return in, nil
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
	case p.accept("BETWEEN"):
		lo, err := p.additive()
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Between{E: l, Lo: lo, Hi: hi, Not: not}, nil
	default:
		p.next() // LIKE
		pat, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Like{E: l, Pattern: pat, Not: not}, nil
	}
}

func (p *parser) additive() (Expr, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.is("+") || p.is("-") {
		op := p.next().text
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (Expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.is("*") || p.is("/") || p.is("%") {
		op := p.next().text
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &BinaryExpr{Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) unary() (Expr, error) {
	if p.is("-") || p.is("+") {
		neg := p.next().text == "-"
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, p.errorf("a less deeply nested expression")
		}
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		if !neg {
			return e, nil
		}
		if lit, ok := e.(*Literal); ok {
			switch v := lit.Value.(type) {
			case int64:
				return &Literal{Value: -v}, nil
			case float64:
				return &Literal{Value: -v}, nil
			}
		}
		return &Neg{E: e}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tokNumber:
		p.next()
		if n, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return &Literal{Value: n}, nil
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.i--
			return nil, p.errorf("a number")
		}
		return &Literal{Value: f}, nil
	case tokString:
		p.next()
		return &Literal{Value: t.text}, nil
	case tokParam:
		p.next()
		p.params++
		return &Param{Index: p.params - 1}, nil
	case tokVariable:
		p.next()
		name := strings.ToLower(strings.TrimLeft(t.text, "@"))
		name = strings.TrimPrefix(strings.TrimPrefix(name, "session."), "global.")
		return &Variable{Name: name, System: strings.HasPrefix(t.text, "@@")}, nil
	case tokOp:
		if t.text == "(" {
			p.next()
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return e, nil
		}
	case tokIdent, tokQuotedIdent:
		up := strings.ToUpper(t.text)
		if t.kind == tokIdent {
			switch up {
			case "NULL":
				p.next()
				return &Literal{Value: nil}, nil
			case "TRUE":
				p.next()
				return &Literal{Value: int64(1)}, nil
			case "FALSE":
				p.next()
				return &Literal{Value: int64(0)}, nil
			}
		}
		if tokIs(p.peekAt(1), "(") && t.kind == tokIdent {
			return p.funcCall()
		}
		if t.kind == tokIdent && reserved[up] {
			return nil, p.errorf("an expression")
		}
		p.next()
		if p.accept(".") {
			col, err := p.ident("a column name")
			if err != nil {
				return nil, err
			}
			return &ColumnRef{Table: t.text, Name: col}, nil
		}
		return &ColumnRef{Name: t.text}, nil
	}
	return nil, p.errorf("an expression")
}

func (p *parser) funcCall() (Expr, error) {
	name := strings.ToUpper(p.next().text)
	p.next() // (
	f := &FuncCall{Name: name}
	if p.accept("*") {
		f.Star = true
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return f, nil
	}
	f.Distinct = p.accept("DISTINCT")
	if p.accept(")") {
		return f, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		f.Args = append(f.Args, e)
		if p.accept(")") {
			return f, nil
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
}
