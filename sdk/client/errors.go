package client

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const timeoutCancel = 10 * time.Second

// statusError turns a gRPC status into a plain error with its message.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok {
		if s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded {
			return fmt.Errorf("scheduler unavailable: %s", s.Message())
		}
		return errors.New(s.Message())
	}
	return err
}
