// Generated from bindings/contract.toml by tickcross-bindings. Do not edit.
// Regenerate with scripts/gen-contract; a test fails when this copy is stale.
`ifndef TICKCROSS_CONTRACT_VH
`define TICKCROSS_CONTRACT_VH

`define TC_BAR_ADDR_BITS 20
`define TC_BAR_BYTES 1048576
`define TC_BIND_BITS 10
`define TC_BIND_SLOTS 1024
`define TC_CLOCK_HZ 322265625
`define TC_MAX_FRAME_BYTES 2048
`define TC_N_FILTERS 16
`define TC_N_INSTRUMENTS 256
`define TC_N_VENUES 8
`define TC_QUOTE_ENTRY_BYTES 64
`define TC_RECORD_STAMP_WORD 15
`define TC_RECORD_WORDS 16
`define TC_RING_RECORDS 1024
`define TC_SIM_DMA_BUS_BASE 138538465099776
`define TC_SYM_HASH_BITS 10
`define TC_SYM_HASH_SEED 2081185517
`define TC_SYM_NAME_BYTES 32
`define TC_SYM_SLOTS 1024
`define TC_SYM_WAYS 2

`define TC_PROTO_NONE 2'd0
`define TC_PROTO_BINANCE_SBE 2'd1
`define TC_PROTO_DERIBIT_MCAST 2'd2
`define TC_OP_CLEAR_STATE 8'd1
`define TC_OP_RESET_COUNTERS 8'd2
`define TC_OP_WRITE_SYMBOL 8'd3
`define TC_OP_CLEAR_SYMBOLS 8'd4

// block control: Identification, parameters, enable, status and the command mailbox.
`define TC_BLK_CONTROL_BASE 20'h00000
`define TC_BLK_CONTROL_TYPE 32'h54430001
`define TC_BLK_CONTROL_VERSION 32'd1
`define TC_BLK_CONTROL_NEXT 20'h00100
`define TC_REG_CONTROL_N_VENUES 20'h00010
`define TC_REG_CONTROL_N_INSTRUMENTS 20'h00018
`define TC_REG_CONTROL_N_FILTERS 20'h00020
`define TC_REG_CONTROL_MAX_FRAME_BYTES 20'h00028
`define TC_REG_CONTROL_CTRL 20'h00030
`define TC_REG_CONTROL_CTRL_ENABLE_LSB 0
`define TC_REG_CONTROL_CTRL_ENABLE_W 1
`define TC_REG_CONTROL_STATUS 20'h00038
`define TC_REG_CONTROL_STATUS_CLEARING_LSB 0
`define TC_REG_CONTROL_STATUS_CLEARING_W 1
`define TC_REG_CONTROL_STATUS_IDLE_LSB 1
`define TC_REG_CONTROL_STATUS_IDLE_W 1
`define TC_REG_CONTROL_CMD 20'h00040
`define TC_REG_CONTROL_CMD_SEQ_LSB 0
`define TC_REG_CONTROL_CMD_SEQ_W 16
`define TC_REG_CONTROL_CMD_OPCODE_LSB 16
`define TC_REG_CONTROL_CMD_OPCODE_W 8
`define TC_REG_CONTROL_CMD_ARG_LSB 32
`define TC_REG_CONTROL_CMD_ARG_W 32
`define TC_REG_CONTROL_CMD_DONE 20'h00048
`define TC_REG_CONTROL_CMD_DONE_SEQ_LSB 0
`define TC_REG_CONTROL_CMD_DONE_SEQ_W 16
`define TC_REG_CONTROL_CMD_DONE_ERROR_LSB 16
`define TC_REG_CONTROL_CMD_DONE_ERROR_W 1

// block clock: Free-running datapath cycle counter (the time base of every cycle stamp).
`define TC_BLK_CLOCK_BASE 20'h00100
`define TC_BLK_CLOCK_TYPE 32'h54430002
`define TC_BLK_CLOCK_VERSION 32'd1
`define TC_BLK_CLOCK_NEXT 20'h00200
`define TC_REG_CLOCK_CYCLES 20'h00110
`define TC_REG_CLOCK_NOMINAL_HZ 20'h00118

// block counters: 64-bit event counters, indexes as in [[counter]] below; cleared by reset_counters.
`define TC_BLK_COUNTERS_BASE 20'h00200
`define TC_BLK_COUNTERS_TYPE 32'h54430003
`define TC_BLK_COUNTERS_VERSION 32'd1
`define TC_BLK_COUNTERS_NEXT 20'h00600
`define TC_REG_COUNTERS_COUNT 20'h00210
`define TC_REG_COUNTERS_COUNTER 20'h00218
`define TC_REG_COUNTERS_COUNTER_COUNT 64

// block venues: Venue selection: the first enabled filter whose prefix and port match a frame's destination gives its venue.
`define TC_BLK_VENUES_BASE 20'h00600
`define TC_BLK_VENUES_TYPE 32'h54430004
`define TC_BLK_VENUES_VERSION 32'd1
`define TC_BLK_VENUES_NEXT 20'h00800
`define TC_REG_VENUES_FILTER 20'h00610
`define TC_REG_VENUES_FILTER_COUNT 16
`define TC_REG_VENUES_FILTER_IP_LSB 0
`define TC_REG_VENUES_FILTER_IP_W 32
`define TC_REG_VENUES_FILTER_PORT_LSB 32
`define TC_REG_VENUES_FILTER_PORT_W 16
`define TC_REG_VENUES_FILTER_PREFIX_LSB 48
`define TC_REG_VENUES_FILTER_PREFIX_W 6
`define TC_REG_VENUES_FILTER_VENUE_LSB 56
`define TC_REG_VENUES_FILTER_VENUE_W 3
`define TC_REG_VENUES_FILTER_ENABLE_LSB 63
`define TC_REG_VENUES_FILTER_ENABLE_W 1
`define TC_REG_VENUES_VENUE 20'h00690
`define TC_REG_VENUES_VENUE_COUNT 8
`define TC_REG_VENUES_VENUE_PROTOCOL_LSB 0
`define TC_REG_VENUES_VENUE_PROTOCOL_W 2
`define TC_REG_VENUES_VENUE_ENABLE_LSB 63
`define TC_REG_VENUES_VENUE_ENABLE_W 1

// block symbols: Symbol table: (venue, name) -> instrument, two-way cuckoo hash; written through a staged entry and the write_symbol command.
`define TC_BLK_SYMBOLS_BASE 20'h00800
`define TC_BLK_SYMBOLS_TYPE 32'h54430005
`define TC_BLK_SYMBOLS_VERSION 32'd1
`define TC_BLK_SYMBOLS_NEXT 20'h01000
`define TC_REG_SYMBOLS_WAYS 20'h00810
`define TC_REG_SYMBOLS_SLOTS 20'h00818
`define TC_REG_SYMBOLS_NAME_BYTES 20'h00820
`define TC_REG_SYMBOLS_STAGE_NAME 20'h00828
`define TC_REG_SYMBOLS_STAGE_NAME_COUNT 4
`define TC_REG_SYMBOLS_STAGE_META 20'h00848
`define TC_REG_SYMBOLS_STAGE_META_LEN_LSB 0
`define TC_REG_SYMBOLS_STAGE_META_LEN_W 8
`define TC_REG_SYMBOLS_STAGE_META_VENUE_LSB 8
`define TC_REG_SYMBOLS_STAGE_META_VENUE_W 8
`define TC_REG_SYMBOLS_STAGE_META_INSTRUMENT_LSB 16
`define TC_REG_SYMBOLS_STAGE_META_INSTRUMENT_W 16
`define TC_REG_SYMBOLS_STAGE_META_VALID_LSB 63
`define TC_REG_SYMBOLS_STAGE_META_VALID_W 1

// block edges: Per-instrument edge in Price9 units (signed): an event needs bid - ask > edge.
`define TC_BLK_EDGES_BASE 20'h01000
`define TC_BLK_EDGES_TYPE 32'h54430006
`define TC_BLK_EDGES_VERSION 32'd1
`define TC_BLK_EDGES_NEXT 20'h01900
`define TC_REG_EDGES_EDGE 20'h01010
`define TC_REG_EDGES_EDGE_COUNT 256

// block ring: Event ring on the card (the buffer between commit and DMA): records at BAR offset `base` (a debug window; the host takes events from host memory, block dma), `producer` counts records written (never stalls: a full ring drops and counts), the host writes `consumer` (its credits: records it has taken from host memory).
`define TC_BLK_RING_BASE 20'h01900
`define TC_BLK_RING_TYPE 32'h54430007
`define TC_BLK_RING_VERSION 32'd1
`define TC_BLK_RING_NEXT 20'h01a00
`define TC_REG_RING_BASE 20'h01910
`define TC_REG_RING_RECORDS 20'h01918
`define TC_REG_RING_RECORD_BYTES 20'h01920
`define TC_REG_RING_PRODUCER 20'h01928
`define TC_REG_RING_CONSUMER 20'h01930

// block quotes: Read window onto the quote table: entry (venue v, instrument i) at base + (v*n_instruments + i)*entry_bytes, words as in [[quote_word]].
`define TC_BLK_QUOTES_BASE 20'h01a00
`define TC_BLK_QUOTES_TYPE 32'h54430008
`define TC_BLK_QUOTES_VERSION 32'd1
`define TC_BLK_QUOTES_NEXT 20'h01b00
`define TC_REG_QUOTES_BASE 20'h01a10
`define TC_REG_QUOTES_ENTRY_BYTES 20'h01a18

// block dma: DMA of event records into a ring in host memory: `addr` its bus address (128-byte aligned), `records` its size (a power of two; 0: no DMA), both taken at clear_state; each record goes as two posted 64-byte writes, its stamp (seq + 1, word record_stamp_word) in the second; the host returns credits in ring.consumer. `written` counts records sent (for diagnostics; the host never polls it).
`define TC_BLK_DMA_BASE 20'h01b00
`define TC_BLK_DMA_TYPE 32'h54430009
`define TC_BLK_DMA_VERSION 32'd1
`define TC_BLK_DMA_NEXT 20'h00000
`define TC_REG_DMA_ADDR 20'h01b10
`define TC_REG_DMA_RECORDS 20'h01b18
`define TC_REG_DMA_WRITTEN 20'h01b20

`define TC_WIN_RING_BASE 20'h20000
`define TC_WIN_RING_BYTES 131072
`define TC_WIN_QUOTES_BASE 20'h40000
`define TC_WIN_QUOTES_BYTES 131072

`define TC_QW_BID_PRICE 0
`define TC_QW_BID_QTY 1
`define TC_QW_ASK_PRICE 2
`define TC_QW_ASK_QTY 3
`define TC_QW_TS 4
`define TC_QW_FLAGS 5

`define TC_CNT_RX_FRAMES 0
`define TC_CNT_RX_BYTES 1
`define TC_CNT_FRAMES_ACCEPTED 2
`define TC_CNT_DROP_DISABLED 3
`define TC_CNT_DROP_BAD_FRAME 4
`define TC_CNT_DROP_NOT_IPV4_UDP 5
`define TC_CNT_DROP_CHECKSUM 6
`define TC_CNT_DROP_LENGTH 7
`define TC_CNT_DROP_NO_VENUE 8
`define TC_CNT_MSG_TRUNCATED 9
`define TC_CNT_MSG_UNKNOWN_TEMPLATE 10
`define TC_CNT_MSG_CONVERSION 11
`define TC_CNT_MSG_UNKNOWN_SYMBOL 12
`define TC_CNT_MSG_SKIPPED 13
`define TC_CNT_BINDS 14
`define TC_CNT_BIND_EVICTIONS 15
`define TC_CNT_QUOTE_UPDATES 16
`define TC_CNT_EVENTS 17
`define TC_CNT_RING_OVERFLOWS 18
`define TC_CNT_INPUT_STALL_CYCLES 19
`define TC_CNT_MESSAGES 20
`define TC_CNT_MESSAGES_COUNT 8
`define TC_CNT_MSG_OUT_OF_ORDER 28
`define TC_CNT_FRAME_DUPLICATES 29
`define TC_CNT_SEQ_UNTRACKED 30
`define TC_CNT_SEQ_GAPS 31
`define TC_CNT_SEQ_GAPS_COUNT 8
`define TC_N_COUNTERS 39

`define TC_REC_SEQ 0
`define TC_REC_META 1
`define TC_REC_META_INSTRUMENT_LSB 0
`define TC_REC_META_INSTRUMENT_W 16
`define TC_REC_META_BUY_VENUE_LSB 16
`define TC_REC_META_BUY_VENUE_W 8
`define TC_REC_META_SELL_VENUE_LSB 24
`define TC_REC_META_SELL_VENUE_W 8
`define TC_REC_META_TRIGGER_VENUE_LSB 32
`define TC_REC_META_TRIGGER_VENUE_W 8
`define TC_REC_META_TRIGGER_SIDE_LSB 40
`define TC_REC_META_TRIGGER_SIDE_W 1
`define TC_REC_META_VALID_LSB 63
`define TC_REC_META_VALID_W 1
`define TC_REC_BUY_PRICE 2
`define TC_REC_BUY_QTY 3
`define TC_REC_SELL_PRICE 4
`define TC_REC_SELL_QTY 5
`define TC_REC_QTY 6
`define TC_REC_TS 7
`define TC_REC_BUY_TS 8
`define TC_REC_SELL_TS 9
`define TC_REC_CYC_FRAME 10
`define TC_REC_CYC_FIRST 11
`define TC_REC_CYC_LAST 12
`define TC_REC_CYC_COMMIT 13
`define TC_REC_FEED_KEY 14

`define TC_SYM_KEY_BYTES 34
`define TC_SYM_HASH_CHARS 8
`define TC_SYM_CHAR_BITS 4

`endif
