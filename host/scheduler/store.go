package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Store keeps the scheduler's state (jobs and sessions) so a restarted
// scheduler carries on where the old one stopped. Keys are slash-separated
// paths of [A-Za-z0-9_.-] segments.
type Store interface {
	// Put stores value under key, durably, before it returns.
	Put(ctx context.Context, key string, value []byte) error
	// List returns every key with the prefix and its value.
	List(ctx context.Context, prefix string) (map[string][]byte, error)
	// Delete removes a key (no error when it is absent).
	Delete(ctx context.Context, key string) error
	// Close releases the store.
	Close() error
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)

func checkKey(key string) error {
	if !keyPattern.MatchString(key) || strings.Contains(key, "..") {
		return fmt.Errorf("invalid store key %q", key)
	}
	return nil
}

// FileStore keeps each key in a file under a directory (the embedded
// default: the scheduler's --state directory). Writes go to a temporary
// file that is synced and renamed, so a crash leaves the old value or the
// new one, never a torn file.
type FileStore struct {
	dir  string
	lock *os.File
}

// OpenFileStore opens (creating) a file store in dir. A lock on the
// directory keeps a second scheduler off it.
func OpenFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("state directory %s is in use by another scheduler: %w", dir, err)
	}
	return &FileStore{dir: dir, lock: lock}, nil
}

func (f *FileStore) path(key string) string { return filepath.Join(f.dir, filepath.FromSlash(key)) }

// Put implements Store.
func (f *FileStore) Put(_ context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	p := f.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("state %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("state %s: %w", key, err)
	}
	_, err = tmp.Write(value)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("state %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (f *FileStore) List(_ context.Context, prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	root := f.dir
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if info.IsDir() || strings.HasPrefix(info.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[key] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", prefix, err)
	}
	return out, nil
}

// Delete implements Store.
func (f *FileStore) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := os.Remove(f.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("state %s: %w", key, err)
	}
	return nil
}

// Close implements Store and releases the directory.
func (f *FileStore) Close() error { return f.lock.Close() }

// EtcdStore keeps the state in etcd under a prefix, for schedulers that
// must survive the loss of their machine.
type EtcdStore struct {
	c      *clientv3.Client
	prefix string
}

// OpenEtcdStore connects to etcd (comma-separated endpoints).
func OpenEtcdStore(endpoints, prefix string) (*EtcdStore, error) {
	var eps []string
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if len(eps) == 0 {
		return nil, errors.New("etcd: no endpoints")
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", endpoints, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Get(ctx, "health-check"); err != nil {
		c.Close()
		return nil, fmt.Errorf("etcd %s is not reachable: %w", endpoints, err)
	}
	if prefix == "" {
		prefix = "/arbalest/"
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &EtcdStore{c: c, prefix: prefix}, nil
}

// Put implements Store.
func (e *EtcdStore) Put(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := e.c.Put(ctx, e.prefix+key, string(value)); err != nil {
		return fmt.Errorf("etcd put %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (e *EtcdStore) List(ctx context.Context, prefix string) (map[string][]byte, error) {
	resp, err := e.c.Get(ctx, e.prefix+prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("etcd list %s: %w", prefix, err)
	}
	out := make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), e.prefix)] = kv.Value
	}
	return out, nil
}

// Delete implements Store.
func (e *EtcdStore) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := e.c.Delete(ctx, e.prefix+key); err != nil {
		return fmt.Errorf("etcd delete %s: %w", key, err)
	}
	return nil
}

// Close implements Store.
func (e *EtcdStore) Close() error { return e.c.Close() }

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
