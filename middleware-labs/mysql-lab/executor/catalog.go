package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/sqlparser"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/storage"
)

// catalogTree holds one JSON schema per table, so tables survive a restart with the data.
const catalogTree = "__catalog"

// Column is a column's schema.
type Column struct {
	Name    string
	Type    string // INT, BIGINT, VARCHAR, CHAR, TEXT, DATETIME, DOUBLE
	Size    int
	NotNull bool
	AutoInc bool
	Default Value
}

// Index is a secondary index: its own tree of (index columns, primary key) -> primary key.
type Index struct {
	Name    string
	Columns []int
	Unique  bool
}

// Table is a table's schema. Rows live in the tree "t:<name>" keyed by the primary key; a table
// without one gets a hidden row id, as InnoDB does (GEN_CLUST_INDEX).
type Table struct {
	Name    string
	Columns []Column
	PK      []int // empty: the hidden row id
	Indexes []Index

	mu     sync.Mutex
	nextID int64
}

func (t *Table) dataTree() string           { return "t:" + t.Name }
func (t *Table) indexTree(ix *Index) string { return "i:" + t.Name + ":" + ix.Name }

func (t *Table) column(name string) int {
	for i, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

func (t *Table) allocID(explicit int64) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if explicit > 0 {
		if explicit >= t.nextID {
			t.nextID = explicit + 1
		}
		return explicit
	}
	if t.nextID < 1 {
		t.nextID = 1
	}
	id := t.nextID
	t.nextID++
	return id
}

// pkKey encodes a row's primary key (or its hidden id).
func (t *Table) pkKey(row []Value, hidden int64) []byte {
	if len(t.PK) == 0 {
		return appendKey(nil, hidden, kindInt)
	}
	var k []byte
	for _, c := range t.PK {
		k = appendKey(k, row[c], kindOf(t.Columns[c].Type))
	}
	return k
}

func (t *Table) indexKey(ix *Index, row []Value, pk []byte) []byte {
	var k []byte
	for _, c := range ix.Columns {
		k = appendKey(k, row[c], kindOf(t.Columns[c].Type))
	}
	return append(k, pk...)
}

type tableJSON struct {
	Name    string
	Columns []Column
	PK      []int
	Indexes []Index
}

// catalog is the set of tables; DDL takes the write lock, everything else the read lock.
type catalog struct {
	mu     sync.RWMutex
	tables map[string]*Table
}

func (c *catalog) get(name string) (*Table, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tables[strings.ToLower(name)]
	if !ok {
		return nil, &Error{Code: ErNoSuchTable, State: "42S02", Msg: fmt.Sprintf("Table 'test.%s' doesn't exist", name)}
	}
	return t, nil
}

func (c *catalog) names() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for _, t := range c.tables {
		out = append(out, t.Name)
	}
	return out
}

func saveTable(ctx context.Context, s Store, t *Table) error {
	b, err := json.Marshal(tableJSON{Name: t.Name, Columns: t.Columns, PK: t.PK, Indexes: t.Indexes})
	if err != nil {
		return fmt.Errorf("encode schema of %s: %w", t.Name, err)
	}
	txn := s.Begin()
	if err := txn.Put(ctx, catalogTree, []byte(strings.ToLower(t.Name)), b); err != nil {
		_ = txn.Rollback()
		return fmt.Errorf("save schema of %s: %w", t.Name, err)
	}
	return txn.Commit(ctx)
}

// loadCatalog reads every schema and finds each table's next auto-increment value.
func loadCatalog(ctx context.Context, s Store) (*catalog, error) {
	c := &catalog{tables: map[string]*Table{}}
	if err := s.CreateTree(catalogTree); err != nil && !isTreeExists(err) {
		return nil, fmt.Errorf("create catalog: %w", err)
	}
	txn := s.Begin()
	defer func() { _ = txn.Rollback() }()
	var decodeErr error
	err := txn.Scan(ctx, catalogTree, nil, nil, func(_, v []byte) bool {
		var tj tableJSON
		if decodeErr = json.Unmarshal(v, &tj); decodeErr != nil {
			return false
		}
		c.tables[strings.ToLower(tj.Name)] = &Table{Name: tj.Name, Columns: tj.Columns, PK: tj.PK, Indexes: tj.Indexes}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("decode catalog: %w", decodeErr)
	}
	for _, t := range c.tables {
		if err := recoverNextID(ctx, txn, t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func recoverNextID(ctx context.Context, txn Txn, t *Table) error {
	autoCol := -1
	for i, col := range t.Columns {
		if col.AutoInc {
			autoCol = i
		}
	}
	if len(t.PK) > 0 && autoCol < 0 {
		return nil
	}
	var maxID int64
	err := txn.Scan(ctx, t.dataTree(), nil, nil, func(k, v []byte) bool {
		if len(t.PK) == 0 {
			if len(k) == 9 {
				id := int64(uint64(k[1])<<56|uint64(k[2])<<48|uint64(k[3])<<40|uint64(k[4])<<32|uint64(k[5])<<24|uint64(k[6])<<16|uint64(k[7])<<8|uint64(k[8])) ^ (-1 << 63)
				maxID = max(maxID, id)
			}
			return true
		}
		row, err := decodeRow(v, len(t.Columns))
		if err == nil {
			if id, ok := row[autoCol].(int64); ok {
				maxID = max(maxID, id)
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("scan %s for its auto-increment: %w", t.Name, err)
	}
	t.nextID = maxID + 1
	return nil
}

func isTreeExists(err error) bool { return errors.Is(err, storage.ErrTreeExists) }

// newTable builds a schema from CREATE TABLE.
func newTable(ct *sqlparser.CreateTable) (*Table, error) {
	t := &Table{Name: ct.Name}
	for _, cd := range ct.Columns {
		if t.column(cd.Name) >= 0 {
			return nil, &Error{Code: ErDupFieldName, State: "42S21", Msg: fmt.Sprintf("Duplicate column name '%s'", cd.Name)}
		}
		col := Column{Name: cd.Name, Type: cd.Type, Size: cd.Size, NotNull: cd.NotNull || cd.PrimaryKey, AutoInc: cd.AutoIncrement}
		if lit, ok := cd.Default.(*sqlparser.Literal); ok && lit.Value != nil {
			v, err := coerce(lit.Value, kindOf(cd.Type))
			if err != nil {
				return nil, err
			}
			col.Default = v
		}
		t.Columns = append(t.Columns, col)
		if cd.PrimaryKey {
			t.PK = []int{len(t.Columns) - 1}
		}
	}
	if len(ct.PrimaryKey) > 0 {
		cols, err := columnIndexes(t, ct.PrimaryKey)
		if err != nil {
			return nil, err
		}
		t.PK = cols
		for _, c := range cols {
			t.Columns[c].NotNull = true
		}
	}
	for i, id := range ct.Indexes {
		cols, err := columnIndexes(t, id.Columns)
		if err != nil {
			return nil, err
		}
		name := id.Name
		if name == "" {
			name = fmt.Sprintf("%s_%d", t.Columns[cols[0]].Name, i+1)
		}
		t.Indexes = append(t.Indexes, Index{Name: name, Columns: cols, Unique: id.Unique})
	}
	return t, nil
}

func columnIndexes(t *Table, names []string) ([]int, error) {
	var out []int
	for _, n := range names {
		c := t.column(n)
		if c < 0 {
			return nil, unknownColumn(n)
		}
		out = append(out, c)
	}
	return out, nil
}
