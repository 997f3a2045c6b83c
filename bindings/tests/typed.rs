//! The generated typed access: every field register packs and unpacks its fields exactly where
//! the contract puts them and refuses values wider than a field; the event record decodes and
//! encodes its used words and nothing else; the pipeline codes are the header's.

use proptest::prelude::*;
use tickcross_bindings::blocks::{control, symbols, venues};
use tickcross_bindings::pipeline::{counts, Kind, Reason};
use tickcross_bindings::record::{EventRecord, Meta};
use tickcross_bindings::{
    counter, gen, params, FieldError, FieldRegister, RecordTooShort, CONTRACT_TOML,
    PIPELINE_HEADER, RECORD_USED_WORDS,
};

fn mask(width: u32) -> u64 {
    if width == 64 {
        u64::MAX
    } else {
        (1 << width) - 1
    }
}

/// One register: in-range values (from `seeds`) round-trip through the typed value and the
/// word, the word has each value at its field's bits, bits outside the fields are ignored, and
/// a value one bit too wide for any field is refused.
fn check_register<R: FieldRegister>(seeds: &[u64], noise: u64) -> Result<(), TestCaseError> {
    let values: Vec<u64> = R::FIELDS
        .iter()
        .zip(seeds.iter().cycle())
        .map(|(f, s)| s & mask(f.width))
        .collect();
    let reg = R::from_values(&values).unwrap();
    prop_assert_eq!(reg.values(), values.clone(), "{}", R::NAME);
    let raw = reg.pack().unwrap();
    let want = R::FIELDS
        .iter()
        .zip(&values)
        .fold(0u64, |acc, (f, v)| acc | v << f.lsb);
    prop_assert_eq!(raw, want, "{}: word", R::NAME);
    prop_assert_eq!(R::unpack(raw), reg, "{}: unpack", R::NAME);
    prop_assert_eq!(
        R::unpack(raw | (noise & !R::MASK)),
        reg,
        "{}: bits outside the fields",
        R::NAME
    );
    prop_assert_eq!(R::unpack(noise).pack().unwrap(), noise & R::MASK);
    for (i, f) in R::FIELDS.iter().enumerate() {
        if f.width == 64 {
            continue;
        }
        let mut wide = values.clone();
        wide[i] |= (seeds[i % seeds.len()] | 1) << f.width;
        prop_assert_eq!(
            R::from_values(&wide),
            Err(FieldError {
                register: R::NAME,
                field: f.name,
                value: wide[i],
                width: f.width,
            })
        );
    }
    Ok(())
}

/// Names of every register the contract gives fields to, as `FieldRegister::NAME` spells them.
fn contract_field_registers() -> Vec<String> {
    let c = gen::parse(CONTRACT_TOML).unwrap();
    let mut names = Vec::new();
    for b in &c.block {
        for r in b.reg.iter().filter(|r| !r.field.is_empty()) {
            names.push(format!("{}.{}", b.name, r.name));
        }
    }
    for w in c.record_word.iter().filter(|w| !w.field.is_empty()) {
        names.push(format!("record.{}", w.name));
    }
    names
}

/// The registers `every_field_register_round_trips` checks; a test below fails when the contract
/// gains one that is not listed here.
const CHECKED: &[&str] = &[
    control::Ctrl::NAME,
    control::Status::NAME,
    control::Cmd::NAME,
    control::CmdDone::NAME,
    venues::Filter::NAME,
    venues::Venue::NAME,
    symbols::StageMeta::NAME,
    Meta::NAME,
];

#[test]
fn every_field_register_of_the_contract_is_checked() {
    assert_eq!(contract_field_registers(), CHECKED);
}

/// Seeds with the edges (0 and all ones) more often than uniform draws would give them.
fn seeds() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()], 1..8)
}

proptest! {
    #[test]
    fn every_field_register_round_trips(seeds in seeds(), noise in any::<u64>()) {
        check_register::<control::Ctrl>(&seeds, noise)?;
        check_register::<control::Status>(&seeds, noise)?;
        check_register::<control::Cmd>(&seeds, noise)?;
        check_register::<control::CmdDone>(&seeds, noise)?;
        check_register::<venues::Filter>(&seeds, noise)?;
        check_register::<venues::Venue>(&seeds, noise)?;
        check_register::<symbols::StageMeta>(&seeds, noise)?;
        check_register::<Meta>(&seeds, noise)?;
    }

    /// Fields narrower than their Rust type: `pack` refuses what does not fit, accepts the rest.
    #[test]
    fn pack_refuses_values_wider_than_their_field(v in any::<u8>()) {
        let cases: [(&str, venues::Filter, venues::Venue, u32); 3] = [
            ("venues.filter.prefix", venues::Filter { prefix: v, ..Default::default() }, venues::Venue::default(), 6),
            ("venues.filter.venue", venues::Filter { venue: v, ..Default::default() }, venues::Venue::default(), 3),
            ("venues.venue.protocol", venues::Filter::default(), venues::Venue { protocol: v, ..Default::default() }, 2),
        ];
        for (name, filter, venue, width) in cases {
            let got = if name.starts_with("venues.filter") { filter.pack() } else { venue.pack() };
            if u64::from(v) <= mask(width) {
                prop_assert!(got.is_ok(), "{name} = {v}");
            } else {
                let e = got.unwrap_err();
                prop_assert_eq!(format!("{}.{}", e.register, e.field), name);
                prop_assert_eq!((e.value, e.width), (u64::from(v), width));
            }
        }
    }

    #[test]
    fn a_record_decodes_its_used_words_and_encodes_them_back(
        words in prop::collection::vec(any::<u64>(), params::RECORD_WORDS as usize),
    ) {
        let rec = EventRecord::decode(&words).unwrap();
        let mut want = words.clone();
        // the record's bits outside meta's fields carry nothing; words past the used ones neither
        want[tickcross_bindings::record::META] &= Meta::MASK;
        want[RECORD_USED_WORDS..].fill(0);
        prop_assert_eq!(rec.encode().unwrap().to_vec(), want.clone());
        prop_assert_eq!(rec.to_words().unwrap().to_vec(), want[..RECORD_USED_WORDS].to_vec());
        prop_assert_eq!(EventRecord::decode(&want[..RECORD_USED_WORDS]).unwrap(), rec);
        prop_assert_eq!(rec.buy_price, words[tickcross_bindings::record::BUY_PRICE] as i64);
        prop_assert_eq!(rec.meta.instrument as u64, words[tickcross_bindings::record::META] & 0xffff);
    }

    /// Every used word is read (a change in it changes the record), no later word is.
    #[test]
    fn the_decoder_reads_exactly_the_used_words(
        words in prop::collection::vec(any::<u64>(), params::RECORD_WORDS as usize),
        at in 0..params::RECORD_WORDS as usize,
    ) {
        let rec = EventRecord::decode(&words).unwrap();
        let mut changed = words.clone();
        // bit 0 of every word is data (meta's bit 0 is the instrument's)
        changed[at] ^= 1;
        let other = EventRecord::decode(&changed).unwrap();
        prop_assert_eq!(other == rec, at >= RECORD_USED_WORDS, "word {}", at);
    }
}

#[test]
fn a_short_record_is_refused() {
    let words = [7u64; 16];
    for n in 0..RECORD_USED_WORDS {
        assert_eq!(
            EventRecord::decode(&words[..n]),
            Err(RecordTooShort { words: n })
        );
    }
    assert!(EventRecord::decode(&words[..RECORD_USED_WORDS]).is_ok());
    assert_eq!(
        RecordTooShort { words: 3 }.to_string(),
        format!("an event record needs {RECORD_USED_WORDS} words, got 3")
    );
}

/// The `define lines of the pipeline header, as (macro, value).
fn header_macros() -> Vec<(String, String)> {
    PIPELINE_HEADER
        .lines()
        .filter_map(|l| l.strip_prefix("`define "))
        .map(|l| {
            let mut it = l.split_whitespace();
            (
                it.next().unwrap_or_default().to_string(),
                it.next().unwrap_or_default().to_string(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

#[test]
fn the_pipeline_enums_are_the_header_codes() {
    let macros = header_macros();
    let mut want: Vec<(String, String)> = Vec::new();
    for k in Kind::ALL {
        assert_eq!(Kind::from_code(k.code()), Some(k));
        want.push((
            format!("TC_K_{}", k.name().to_uppercase()),
            format!("{}'d{}", Kind::WIDTH, k.code()),
        ));
    }
    for r in Reason::ALL {
        assert_eq!(Reason::from_code(r.code()), Some(r));
        assert_eq!(Reason::from_counter(r.counter()), Some(r));
        want.push((
            format!("TC_R_{}", r.name().to_uppercase()),
            format!("{}'d{}", Reason::WIDTH, r.code()),
        ));
    }
    for (name, lsb) in [
        ("MSGS", counts::MSGS),
        ("TRUNC", counts::TRUNC),
        ("UNKNOWN", counts::UNKNOWN),
        ("SKIPPED", counts::SKIPPED),
        ("CONV", counts::CONV),
        ("UNKSYM", counts::UNKSYM),
        ("BITS", counts::BITS),
    ] {
        want.push((format!("TC_C_{name}"), lsb.to_string()));
    }
    let mut got = macros;
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(Kind::from_code(1 << Kind::WIDTH), None);
    assert_eq!(Reason::from_code(7), None);
    assert_eq!(Reason::from_counter(counter::QUOTE_UPDATES), None);
    assert_eq!(counts::BITS, 6 * counts::MSGS_W);
}
