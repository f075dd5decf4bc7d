package otlpjson

import (
	"math"
	"math/rand/v2"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// exportTypes are every message the codec must handle at the top: the export requests and
// responses of the three signals. Everything else is reached from them.
func exportTypes() []proto.Message {
	return []proto.Message{
		&collogspb.ExportLogsServiceRequest{},
		&collogspb.ExportLogsServiceResponse{},
		&colmetricspb.ExportMetricsServiceRequest{},
		&colmetricspb.ExportMetricsServiceResponse{},
		&coltracepb.ExportTraceServiceRequest{},
		&coltracepb.ExportTraceServiceResponse{},
	}
}

// filled returns messages of every export type with every field set, the oneof members taking
// turns across variants, from the descriptors alone: a field a newer proto module adds gets
// set, and tested, without anyone writing it down here.
func filled(t testing.TB) []proto.Message {
	t.Helper()
	var out []proto.Message
	for i, typ := range exportTypes() {
		for variant := range 10 {
			m := typ.ProtoReflect().New()
			rnd := rand.New(rand.NewPCG(uint64(i), uint64(variant)))
			fill(m, rnd, variant, 0)
			out = append(out, m.Interface())
		}
	}
	return out
}

// fillDepth bounds the nesting of AnyValues.
const fillDepth = 3

func fill(m protoreflect.Message, rnd *rand.Rand, variant, depth int) {
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			// One member per oneof: which one turns with the variant.
			if od.Fields().Get(variant%od.Fields().Len()) != fd {
				continue
			}
			if fd.Message() == nil {
				// A set member at its default is still set, and must survive as such.
				if variant/od.Fields().Len()%2 == 1 {
					m.Set(fd, zeroOf(fd))
				} else {
					m.Set(fd, scalarFor(fd, rnd))
				}
				continue
			}
		}
		next := depth
		if fd.Message() != nil && fd.Message().FullName() == anyValueName {
			next++
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range 1 + rnd.IntN(2) {
				if fd.Message() != nil {
					if next > fillDepth {
						break
					}
					e := l.NewElement()
					fill(e.Message(), rnd, variant+rnd.IntN(8), next)
					l.Append(e)
				} else {
					l.Append(scalarFor(fd, rnd))
				}
			}
		case fd.Message() != nil:
			sub := m.Mutable(fd).Message()
			if next <= fillDepth {
				fill(sub, rnd, variant+rnd.IntN(8), next)
			}
		default:
			m.Set(fd, scalarFor(fd, rnd))
		}
	}
}

func zeroOf(fd protoreflect.FieldDescriptor) protoreflect.Value {
	if fd.Kind() == protoreflect.BytesKind {
		return protoreflect.ValueOfBytes(nil)
	}
	return fd.Default()
}

// Values chosen for what they do to an encoder: extremes, escapes, multi-byte text.
var (
	testStrings = []string{
		"claude_code.tool_result", "", "0", "with \"quotes\" and \\backslash\\ and /slash",
		"control \x00\x01\x1f\t\n\r\b\f\x7f", "é ü ß 日本語 😀 \u2028\u2029", "<html>&amp;</html>",
		"user@example.com", "123456789012345678901234567890",
	}
	testInt64s   = []int64{1, -1, math.MaxInt64, math.MinInt64, 1795639688450000000, 1 << 53, 1<<53 + 1}
	testUint64s  = []uint64{1, math.MaxUint64, 1795639688450000000, 1<<53 + 1}
	testInt32s   = []int32{1, -1, math.MaxInt32, math.MinInt32}
	testUint32s  = []uint32{1, math.MaxUint32, 257}
	testFloat64s = []float64{
		1, -1, 0.015239999999999997, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1),
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-7, 1e21, 123456789.125, -2.5e-300,
	}
)

func scalarFor(fd protoreflect.FieldDescriptor, rnd *rand.Rand) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(testInt32s[rnd.IntN(len(testInt32s))])
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(testUint32s[rnd.IntN(len(testUint32s))])
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(testInt64s[rnd.IntN(len(testInt64s))])
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(testUint64s[rnd.IntN(len(testUint64s))])
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(testFloat64s[rnd.IntN(4)]))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(testFloat64s[rnd.IntN(len(testFloat64s))])
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(testStrings[rnd.IntN(len(testStrings))])
	case protoreflect.BytesKind:
		n := 1 + rnd.IntN(40)
		if l, ok := idLengths[fd.Name()]; ok {
			n = l
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.UintN(256))
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if rnd.IntN(5) == 0 {
			return protoreflect.ValueOfEnum(99) // a value this build does not name
		}
		return protoreflect.ValueOfEnum(vals.Get(rnd.IntN(vals.Len())).Number())
	}
	panic("fill: unexpected kind " + fd.Kind().String())
}

// TestFilledRoundTrip round-trips messages with every field of every reachable type set.
func TestFilledRoundTrip(t *testing.T) {
	for _, m := range filled(t) {
		t.Run(string(m.ProtoReflect().Descriptor().Name()), func(t *testing.T) {
			roundTrip(t, m)
		})
	}
}

// TestFillReachesEveryField makes sure the filled messages leave no field of any reachable
// message type unset, so the tests built on them cover the whole schema.
func TestFillReachesEveryField(t *testing.T) {
	seen := map[protoreflect.FullName]bool{}
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			seen[fd.FullName()] = true
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	for _, m := range filled(t) {
		walk(m.ProtoReflect())
	}
	all := map[protoreflect.FullName]bool{}
	var reach func(md protoreflect.MessageDescriptor)
	reach = func(md protoreflect.MessageDescriptor) {
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			if all[fd.FullName()] {
				continue
			}
			all[fd.FullName()] = true
			if fd.Message() != nil {
				reach(fd.Message())
			}
		}
	}
	for _, m := range exportTypes() {
		reach(m.ProtoReflect().Descriptor())
	}
	for name := range all {
		if !seen[name] {
			t.Errorf("no filled message sets %s", name)
		}
	}
	if len(all) < 100 {
		t.Errorf("only %d fields reachable from the export types; the walk is broken", len(all))
	}
}
