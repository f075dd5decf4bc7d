package spool

import (
	"encoding/binary"
	"hash/crc32"
)

// A record on disk is a header followed by its data. The header, little-endian:
//
//	0   uint32  length of the data
//	4   uint32  CRC-32C (Castagnoli) of header bytes 0-3 and 8-23, then of the data
//	8   uint64  the record's ID
//	16  int64   append time, Unix nanoseconds
//
// The ID makes a record say where it belongs, so a record that is not the one its place
// implies (stale bytes, a misnamed segment) is caught like a torn or flipped one.
const headerSize = 24

// maxRecordBytes bounds one record's data. A header claiming more is damage, not data.
const maxRecordBytes = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type header struct {
	length uint32
	sum    uint32
	id     uint64
	at     int64
}

// putHeader fills b[:headerSize] with the header of data.
func putHeader(b []byte, id uint64, at int64, data []byte) {
	binary.LittleEndian.PutUint32(b[0:], uint32(len(data)))
	binary.LittleEndian.PutUint64(b[8:], id)
	binary.LittleEndian.PutUint64(b[16:], uint64(at))
	binary.LittleEndian.PutUint32(b[4:], updateSum(headerSum(b), data))
}

func parseHeader(b []byte) header {
	return header{
		length: binary.LittleEndian.Uint32(b[0:]),
		sum:    binary.LittleEndian.Uint32(b[4:]),
		id:     binary.LittleEndian.Uint64(b[8:]),
		at:     int64(binary.LittleEndian.Uint64(b[16:])),
	}
}

// headerSum starts a record's checksum with the header fields it covers.
func headerSum(h []byte) uint32 {
	c := crc32.Update(0, castagnoli, h[0:4])
	return crc32.Update(c, castagnoli, h[8:headerSize])
}

func updateSum(c uint32, data []byte) uint32 { return crc32.Update(c, castagnoli, data) }
