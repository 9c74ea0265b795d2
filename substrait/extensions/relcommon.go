package extensions

import (
	"fmt"

	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// SetDirectEmit gives every relation under m without RelCommon an explicit one
// (direct emit): the field is optional in the spec but substrait-go
// dereferences it.
func SetDirectEmit(m protoreflect.Message) error { return setDirectEmit(m, 0) }

func setDirectEmit(m protoreflect.Message, depth int) error {
	if depth > 100000 {
		return fmt.Errorf("plan nested too deeply")
	}
	if fd := m.Descriptor().Fields().ByName("common"); fd != nil && fd.Message() != nil &&
		fd.Message().FullName() == "substrait.RelCommon" && !m.Has(fd) {
		m.Set(fd, protoreflect.ValueOfMessage((&pb.RelCommon{EmitKind: &pb.RelCommon_Direct_{Direct: &pb.RelCommon_Direct{}}}).ProtoReflect()))
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			for i := 0; i < v.List().Len() && err == nil; i++ {
				err = setDirectEmit(v.List().Get(i).Message(), depth+1)
			}
		} else {
			err = setDirectEmit(v.Message(), depth+1)
		}
		return err == nil
	})
	return err
}
