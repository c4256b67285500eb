//go:build unix

package scenarios

import (
	"fmt"
	"syscall"
)

func mkfifo(path string) error {
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("mkfifo: %w", err)
	}
	return nil
}
