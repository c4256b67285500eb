//go:build !unix

package scenarios

import "errors"

func mkfifo(string) error {
	return errors.New("named pipes need a unix system; the sync-logging scenario runs on Linux or macOS")
}
