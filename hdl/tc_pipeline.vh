// Generated from bindings/contract.toml ([[pipeline]]) by tickcross-bindings. Do not edit.
// Regenerate with scripts/gen-contract; a test fails when this copy is stale.
// Internal definitions shared by the pipeline stages (not part of the host contract).
`ifndef TC_PIPELINE_VH
`define TC_PIPELINE_VH

// Record kinds flowing from the decoders to the quote stage.
`define TC_K_NONE  3'd0   // nothing (a dropped message; counted)
`define TC_K_QNAME 3'd1   // quote by symbol name (binance_sbe)
`define TC_K_QID   3'd2   // quote by instrumentId (deribit_mcast Ticker)
`define TC_K_DEF   3'd3   // instrument definition (deribit_mcast Instrument)
`define TC_K_END   3'd4   // end of frame: verdict and the frame's message counts
`define TC_K_QUOTE 3'd5   // quote resolved to an instrument

// Per-frame message counts carried by END records: six 16-bit fields.
`define TC_C_MSGS    0
`define TC_C_TRUNC   16
`define TC_C_UNKNOWN 32
`define TC_C_SKIPPED 48
`define TC_C_CONV    64
`define TC_C_UNKSYM  80
`define TC_C_BITS    96

// Frame verdicts (tc_frame_rx done_reason).
`define TC_R_OK       3'd0   // counts into frames_accepted
`define TC_R_DISABLED 3'd1   // counts into drop_disabled
`define TC_R_BAD      3'd2   // counts into drop_bad_frame
`define TC_R_NOT_IPV4 3'd3   // counts into drop_not_ipv4_udp
`define TC_R_CHECKSUM 3'd4   // counts into drop_checksum
`define TC_R_LENGTH   3'd5   // counts into drop_length
`define TC_R_NO_VENUE 3'd6   // counts into drop_no_venue

`endif
