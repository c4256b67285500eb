//go:build !integration

package sqlstore

import "testing"

func dsnFor(*testing.T, Dialect) string { return "" }
