//! What differs between venues' FIX 4.4 dialects, for the messages this connector sends and
//! reads.
//!
//! | | `fix44` (FIX 4.4) | `binance_spot` (`../shared/specs/binance/spot-fix-oe.xml`, fix-api.md) |
//! |---|---|---|
//! | Logon | 98=0, 108, optional 141=Y, auth fields | 98=0, 108 in 5..=60, 141=Y required, 95/96 signature, 553 API key, MessageHandling(25035)=2 (SEQUENTIAL: processed in MsgSeqNum order), ResponseMode(25036)=1 (EVERYTHING) |
//! | sequence numbers | persisted across sessions | start at 1 on every Logon (141=Y) |
//! | ResendRequest / SequenceReset | both directions | "not supported": a gap from the venue is logged and skipped, and orders not final are left to the engine's timeouts |
//! | NewOrderSingle(D) | 11, 55, 54, 60 TransactTime, 38, 40=2 LIMIT, 44, 59=3 IOC | 11, 55, 54, 38, 40=2, 44, 59=3; no TransactTime |
//! | OrderCancelRequest(F) | 41, 11, 55, 54, 60, 38 | 11, 41, 55 |
//! | ClOrdID(11) | printable ASCII, at most 64 bytes | `^[a-zA-Z0-9-_]{1,36}$` |
//! | CompIDs | printable ASCII | SenderCompID `^[a-zA-Z0-9-_]{1,8}$`; TargetCompID `SPOT` |
//! | reject details | Text(58) | Text(58) and ErrorCode(25016) |
//! | BusinessMessageReject(j) | yes | not in the dictionary (Reject(3) and ExecType=8 instead) |
//! | OrderStatusRequest(H), OrderMassStatusRequest(AF) | yes (11, 790, 55, 54; 584, 585=7) | neither: Binance answers order queries on its REST and WebSocket APIs only |

use std::ops::RangeInclusive;

use rust_decimal::Decimal;

use super::codec::Message;
use tickcross_trading::venue::Side;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dictionary {
    Fix44,
    BinanceSpot,
}

/// What a NewOrderSingle carries.
pub struct NewOrder<'a> {
    pub cl_ord_id: &'a str,
    pub symbol: &'a str,
    pub side: Side,
    pub qty: Decimal,
    pub price: Decimal,
    pub transact_time: &'a str,
}

/// What an OrderCancelRequest carries.
pub struct CancelOrder<'a> {
    pub cl_ord_id: &'a str,
    pub orig_cl_ord_id: &'a str,
    pub symbol: &'a str,
    pub side: Side,
    pub qty: Decimal,
    pub transact_time: &'a str,
}

pub fn side_code(s: Side) -> &'static str {
    match s {
        Side::Buy => "1",
        Side::Sell => "2",
    }
}

impl Dictionary {
    pub fn from_name(s: &str) -> Option<Dictionary> {
        match s {
            "fix44" => Some(Dictionary::Fix44),
            "binance_spot" => Some(Dictionary::BinanceSpot),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dictionary::Fix44 => "fix44",
            Dictionary::BinanceSpot => "binance_spot",
        }
    }

    pub fn requires_reset_on_logon(self) -> bool {
        self == Dictionary::BinanceSpot
    }

    /// The venue answers ResendRequest.
    pub fn supports_resend(self) -> bool {
        self == Dictionary::Fix44
    }

    pub fn heartbeat_range(self) -> RangeInclusive<u64> {
        match self {
            Dictionary::Fix44 => 1..=3600,
            Dictionary::BinanceSpot => 5..=60,
        }
    }

    pub fn check_comp_id(self, which: &str, v: &str) -> Result<(), String> {
        match self {
            Dictionary::Fix44 => Ok(()),
            Dictionary::BinanceSpot if which == "target_comp_id" && v != "SPOT" => {
                Err("Binance's TargetCompID is \"SPOT\"".into())
            }
            Dictionary::BinanceSpot => {
                if binance_id(v, 8) {
                    Ok(())
                } else {
                    Err("Binance CompIDs match ^[a-zA-Z0-9-_]{1,8}$".into())
                }
            }
        }
    }

    pub fn cl_ord_id_rule(self) -> &'static str {
        match self {
            Dictionary::Fix44 => "printable ASCII, 1 to 64 characters",
            Dictionary::BinanceSpot => "^[a-zA-Z0-9-_]{1,36}$",
        }
    }

    pub fn valid_cl_ord_id(self, s: &str) -> bool {
        match self {
            Dictionary::Fix44 => {
                !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| (0x21..0x7f).contains(&b))
            }
            Dictionary::BinanceSpot => binance_id(s, 36),
        }
    }

    /// Fields after the auth fields of a Logon.
    pub fn logon_extra(self, m: &mut Message) {
        if self == Dictionary::BinanceSpot {
            m.push(25035, "2").push(25036, "1");
        }
    }

    /// The body of a NewOrderSingle: an IOC limit order.
    pub fn new_order_single(self, o: &NewOrder<'_>) -> Message {
        let mut m = Message::new("D");
        m.push(11, o.cl_ord_id)
            .push(55, o.symbol)
            .push(54, side_code(o.side));
        if self == Dictionary::Fix44 {
            m.push(60, o.transact_time);
        }
        m.push_decimal(38, o.qty)
            .push(40, "2")
            .push_decimal(44, o.price)
            .push(59, "3");
        m
    }

    /// The body of an OrderCancelRequest.
    pub fn order_cancel_request(self, c: &CancelOrder<'_>) -> Message {
        let mut m = Message::new("F");
        match self {
            Dictionary::Fix44 => {
                m.push(41, c.orig_cl_ord_id)
                    .push(11, c.cl_ord_id)
                    .push(55, c.symbol)
                    .push(54, side_code(c.side))
                    .push(60, c.transact_time)
                    .push_decimal(38, c.qty);
            }
            Dictionary::BinanceSpot => {
                m.push(11, c.cl_ord_id)
                    .push(41, c.orig_cl_ord_id)
                    .push(55, c.symbol);
            }
        }
        m
    }

    /// The dialect has OrderStatusRequest(H) and OrderMassStatusRequest(AF).
    pub fn has_order_status(self) -> bool {
        self == Dictionary::Fix44
    }

    /// The body of an OrderStatusRequest for the order `cl_ord_id` (None without one).
    pub fn order_status_request(
        self,
        cl_ord_id: &str,
        req_id: &str,
        symbol: &str,
        side: Side,
    ) -> Option<Message> {
        self.has_order_status().then(|| {
            let mut m = Message::new("H");
            m.push(11, cl_ord_id)
                .push(790, req_id)
                .push(55, symbol)
                .push(54, side_code(side));
            m
        })
    }

    /// The body of an OrderMassStatusRequest for every order (MassStatusReqType 7).
    pub fn order_mass_status_request(self, req_id: &str) -> Option<Message> {
        self.has_order_status().then(|| {
            let mut m = Message::new("AF");
            m.push(584, req_id).push(585, "7");
            m
        })
    }

    /// The venue's reason in a reject: Text(58), with Binance's ErrorCode(25016).
    pub fn reject_text(self, m: &Message) -> String {
        let text = m.get(58).unwrap_or("").to_string();
        match (self, m.get(25016)) {
            (Dictionary::BinanceSpot, Some(code)) => format!("[{code}] {text}"),
            _ => text,
        }
    }
}

fn binance_id(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_new_order_single_matches_the_spec_sample_fields() {
        // fix-api.md sample: ...|11=1718096506197867067|38=5|40=2|44=10|54=1|55=LTCBNB|59=4|
        // (a FOK there; ours are IOC, 59=3)
        let m = Dictionary::BinanceSpot.new_order_single(&NewOrder {
            cl_ord_id: "1718096506197867067",
            symbol: "LTCBNB",
            side: Side::Buy,
            qty: Decimal::from(5),
            price: Decimal::new(1000, 2),
            transact_time: "20240611-09:01:46.228",
        });
        let mut fields: Vec<(u32, String)> = m
            .fields()
            .map(|(t, v)| (t, String::from_utf8_lossy(v).into_owned()))
            .collect();
        fields.sort();
        let want: Vec<(u32, String)> = [
            (11, "1718096506197867067"),
            (35, "D"),
            (38, "5"),
            (40, "2"),
            (44, "10"),
            (54, "1"),
            (55, "LTCBNB"),
            (59, "3"),
        ]
        .iter()
        .map(|(t, v)| (*t, v.to_string()))
        .collect();
        assert_eq!(fields, want);
        let g = Dictionary::Fix44.new_order_single(&NewOrder {
            cl_ord_id: "7",
            symbol: "BTCUSDT",
            side: Side::Sell,
            qty: Decimal::new(25, 2),
            price: Decimal::from(60000),
            transact_time: "20240611-09:01:46.228",
        });
        assert_eq!(g.get(60), Some("20240611-09:01:46.228"));
        assert_eq!(g.get(54), Some("2"));
        assert_eq!(g.get(38), Some("0.25"));
    }

    #[test]
    fn cancel_requests_per_dictionary() {
        let c = CancelOrder {
            cl_ord_id: "7-c1",
            orig_cl_ord_id: "7",
            symbol: "BTCUSDT",
            side: Side::Buy,
            qty: Decimal::ONE,
            transact_time: "20240611-09:01:46.228",
        };
        let b = Dictionary::BinanceSpot.order_cancel_request(&c);
        assert_eq!(b.len(), 4);
        assert_eq!(b.get(41), Some("7"));
        let f = Dictionary::Fix44.order_cancel_request(&c);
        assert!(f.has(54) && f.has(60) && f.has(38));
    }

    #[test]
    fn id_rules() {
        assert!(Dictionary::BinanceSpot.valid_cl_ord_id("tc-18446744073709551615"));
        assert!(!Dictionary::BinanceSpot.valid_cl_ord_id("tc.1"));
        assert!(!Dictionary::BinanceSpot.valid_cl_ord_id(&"a".repeat(37)));
        assert!(Dictionary::Fix44.valid_cl_ord_id("tc.1"));
        assert!(Dictionary::BinanceSpot
            .check_comp_id("sender_comp_id", "EXAMPLE")
            .is_ok());
        assert!(Dictionary::BinanceSpot
            .check_comp_id("target_comp_id", "SPOT")
            .is_ok());
        assert!(Dictionary::BinanceSpot
            .check_comp_id("sender_comp_id", "NINECHARS")
            .is_err());
        let mut m = Message::new("3");
        m.push(58, "Unknown order sent.").push(25016, "-1013");
        assert_eq!(
            Dictionary::BinanceSpot.reject_text(&m),
            "[-1013] Unknown order sent."
        );
        assert_eq!(Dictionary::Fix44.reject_text(&m), "Unknown order sent.");
    }
}
