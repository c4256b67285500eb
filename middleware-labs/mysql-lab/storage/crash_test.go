package storage

import "os"

func isCrashChild() bool { return os.Getenv("STORAGE_CRASH_CHILD_DIR") != "" }
func crashChild()        { os.Exit(0) }
