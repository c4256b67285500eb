// Package sqlparser turns the SQL subset of the lab into an AST: a hand-written lexer and a
// recursive-descent parser, one function per grammar rule, so a learner can follow a statement from
// its bytes to the tree the executor plans.
package sqlparser

// Statement is one parsed SQL statement.
type Statement interface{ stmt() }

// Expr is an expression in a WHERE clause, a select list, a VALUES row or a SET.
type Expr interface{ expr() }

// ColumnDef is one column of CREATE TABLE.
type ColumnDef struct {
	Name          string
	Type          string // upper case: INT, BIGINT, VARCHAR, CHAR, TEXT, DATETIME, ...
	Size          int    // VARCHAR(n), CHAR(n); 0 when absent
	NotNull       bool
	PrimaryKey    bool
	AutoIncrement bool
	Default       Expr
}

// IndexDef is an index declared inside CREATE TABLE.
type IndexDef struct {
	Name    string
	Columns []string
	Unique  bool
}

// CreateTable is CREATE TABLE.
type CreateTable struct {
	Name        string
	IfNotExists bool
	Columns     []ColumnDef
	PrimaryKey  []string
	Indexes     []IndexDef
}

// CreateIndex is CREATE [UNIQUE] INDEX name ON table (cols).
type CreateIndex struct {
	Index IndexDef
	Table string
}

// DropTable is DROP TABLE [IF EXISTS] name.
type DropTable struct {
	Name     string
	IfExists bool
}

// DropIndex is DROP INDEX name ON table.
type DropIndex struct{ Name, Table string }

// Insert is INSERT INTO t [(cols)] VALUES (...), (...).
type Insert struct {
	Table   string
	Columns []string
	Rows    [][]Expr
}

// SelectExpr is one item of a select list.
type SelectExpr struct {
	Expr  Expr // nil for *
	Star  bool
	Alias string
}

// TableRef is a table in FROM, with the ON condition of a JOIN.
type TableRef struct {
	Name  string
	Alias string
	On    Expr // nil for the first table
}

// OrderItem is one ORDER BY term.
type OrderItem struct {
	Expr Expr
	Desc bool
}

// Select is SELECT.
type Select struct {
	Distinct  bool
	Exprs     []SelectExpr
	From      []TableRef // empty for SELECT 1, SELECT @@version_comment
	Where     Expr
	GroupBy   []Expr
	OrderBy   []OrderItem
	Limit     Expr // nil: no limit
	Offset    Expr
	ForUpdate bool
}

// Assignment is col = expr in UPDATE, or name = expr in SET.
type Assignment struct {
	Name  string
	Value Expr
}

// Update is UPDATE t SET ... [WHERE ...].
type Update struct {
	Table string
	Set   []Assignment
	Where Expr
}

// Delete is DELETE FROM t [WHERE ...].
type Delete struct {
	Table string
	Where Expr
}

// Begin is BEGIN or START TRANSACTION.
type Begin struct{}

// Commit is COMMIT.
type Commit struct{}

// Rollback is ROLLBACK.
type Rollback struct{}

// Explain is EXPLAIN <select>.
type Explain struct{ Stmt Statement }

// Show is SHOW ENGINE INNODB STATUS, SHOW TABLES, SHOW DATABASES, SHOW INDEX FROM t, SHOW VARIABLES ...
type Show struct {
	What  string // "ENGINE INNODB STATUS", "TABLES", "DATABASES", "INDEX", "VARIABLES", "WARNINGS", "STATUS"
	Table string
	Like  string
}

// Set is SET [SESSION|GLOBAL] a = 1, b = 2 or SET NAMES x.
type Set struct {
	Names string // SET NAMES utf8mb4
	Vars  []Assignment
}

// Use is USE db.
type Use struct{ DB string }

func (*CreateTable) stmt() {}
func (*CreateIndex) stmt() {}
func (*DropTable) stmt()   {}
func (*DropIndex) stmt()   {}
func (*Insert) stmt()      {}
func (*Select) stmt()      {}
func (*Update) stmt()      {}
func (*Delete) stmt()      {}
func (*Begin) stmt()       {}
func (*Commit) stmt()      {}
func (*Rollback) stmt()    {}
func (*Explain) stmt()     {}
func (*Show) stmt()        {}
func (*Set) stmt()         {}
func (*Use) stmt()         {}

// Literal is a constant: int64, float64, string or nil (NULL).
type Literal struct{ Value any }

// ColumnRef is [table.]column.
type ColumnRef struct{ Table, Name string }

// Param is a ? placeholder of a prepared statement, numbered from 0.
type Param struct{ Index int }

// Variable is @@name or @name.
type Variable struct {
	Name   string // without the @ signs, lower case
	System bool
}

// BinaryExpr is L op R; Op is upper case: = != < <= > >= AND OR + - * / %.
type BinaryExpr struct {
	Op   string
	L, R Expr
}

// NotExpr is NOT e.
type NotExpr struct{ E Expr }

// Neg is -e.
type Neg struct{ E Expr }

// Between is e [NOT] BETWEEN lo AND hi.
type Between struct {
	E, Lo, Hi Expr
	Not       bool
}

// InList is e [NOT] IN (list).
type InList struct {
	E    Expr
	List []Expr
	Not  bool
}

// Like is e [NOT] LIKE pattern.
type Like struct {
	E, Pattern Expr
	Not        bool
}

// IsNull is e IS [NOT] NULL.
type IsNull struct {
	E   Expr
	Not bool
}

// FuncCall is name(args), COUNT(*), COUNT(DISTINCT x).
type FuncCall struct {
	Name     string // upper case
	Args     []Expr
	Star     bool
	Distinct bool
}

func (*Literal) expr()    {}
func (*ColumnRef) expr()  {}
func (*Param) expr()      {}
func (*Variable) expr()   {}
func (*BinaryExpr) expr() {}
func (*NotExpr) expr()    {}
func (*Neg) expr()        {}
func (*Between) expr()    {}
func (*InList) expr()     {}
func (*Like) expr()       {}
func (*IsNull) expr()     {}
func (*FuncCall) expr()   {}
