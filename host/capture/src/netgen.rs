//! Builds Ethernet frames carrying UDP over IPv4 (optionally behind one 802.1Q tag), with correct
//! lengths and checksums, for the feed bridge and for tests. Also a minimal parser of such frames.

use std::net::{Ipv4Addr, SocketAddrV4};

/// Locally administered source MAC used unless one is given.
pub const DEFAULT_SRC_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
/// Destination MAC for unicast destinations unless one is given (there is no ARP here).
pub const DEFAULT_UNICAST_DST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
pub const DEFAULT_TTL: u8 = 64;
/// Minimum Ethernet frame without FCS; shorter frames are zero-padded.
pub const MIN_FRAME_LEN: usize = 60;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const IPPROTO_UDP: u8 = 17;
/// IPv4 options are at most 40 bytes (IHL 15).
pub const MAX_IPV4_OPTIONS: usize = 40;

/// An 802.1Q tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VlanTag {
    /// Priority code point, 0..=7.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id, 0..=4095.
    pub vid: u16,
}

impl VlanTag {
    pub fn new(vid: u16) -> VlanTag {
        VlanTag {
            pcp: 0,
            dei: false,
            vid,
        }
    }

    /// The tag control information word.
    pub fn tci(&self) -> u16 {
        (u16::from(self.pcp & 7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }

    pub fn from_tci(tci: u16) -> VlanTag {
        VlanTag {
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0x0fff,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetgenError {
    #[error("IPv4 options of {0} bytes exceed {MAX_IPV4_OPTIONS} (padded to 32 bits)")]
    OptionsTooLong(usize),
    #[error("UDP payload of {0} bytes does not fit one IPv4 datagram")]
    PayloadTooLarge(usize),
    #[error("VLAN tag out of range (pcp {pcp}, vid {vid})")]
    BadVlan { pcp: u8, vid: u16 },
}

/// The multicast MAC for an IPv4 group: 01:00:5e followed by the address's low 23 bits.
pub fn multicast_mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
}

/// The 32-bit running ones'-complement sum of big-endian 16-bit words (an odd last byte is
/// padded with zero), added to `acc`. Fold with [`fold_checksum`].
pub fn ones_complement_sum(data: &[u8], mut acc: u32) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc = fold_once(acc + u32::from(u16::from_be_bytes([w[0], w[1]])));
    }
    if let [last] = words.remainder() {
        acc = fold_once(acc + (u32::from(*last) << 8));
    }
    acc
}

fn fold_once(acc: u32) -> u32 {
    (acc & 0xffff) + (acc >> 16)
}

/// Folds a running sum to 16 bits and complements it: the checksum field value.
pub fn fold_checksum(mut acc: u32) -> u16 {
    while acc >> 16 != 0 {
        acc = fold_once(acc);
    }
    !(acc as u16)
}

/// The IPv4 header checksum over `header` as given: with the checksum field zeroed, the value to
/// store there; over a header whose checksum is correct, 0.
pub fn ipv4_checksum(header: &[u8]) -> u16 {
    fold_checksum(ones_complement_sum(header, 0))
}

/// The UDP checksum of `segment` (UDP header with a zero checksum field, then payload) with the
/// IPv4 pseudo-header. A computed 0 is sent as 0xFFFF (0 means "no checksum").
pub fn udp_checksum(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    let mut acc = ones_complement_sum(&src.octets(), 0);
    acc = ones_complement_sum(&dst.octets(), acc);
    acc = fold_once(acc + u32::from(IPPROTO_UDP));
    // UDP lengths never exceed 16 bits here; the builder checks that.
    acc = fold_once(acc + (segment.len() as u32 & 0xffff));
    acc = ones_complement_sum(segment, acc);
    match fold_checksum(acc) {
        0 => 0xffff,
        c => c,
    }
}

/// Builder of Ethernet/[802.1Q/]IPv4/UDP frames. Fields are public; the chainable setters are a
/// convenience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpFrameBuilder {
    pub src_mac: [u8; 6],
    /// `None`: the multicast MAC of a multicast destination, else [`DEFAULT_UNICAST_DST_MAC`].
    pub dst_mac: Option<[u8; 6]>,
    pub vlan: Option<VlanTag>,
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub ttl: u8,
    pub identification: u16,
    /// Type of service / DSCP+ECN byte.
    pub tos: u8,
    pub dont_fragment: bool,
    /// IPv4 options, zero-padded (end-of-options) to a multiple of 4 bytes; IHL follows.
    pub ip_options: Vec<u8>,
    /// Compute the UDP checksum (else send 0, as many multicast feeds do).
    pub udp_checksum: bool,
}

impl UdpFrameBuilder {
    pub fn new(src: SocketAddrV4, dst: SocketAddrV4) -> UdpFrameBuilder {
        UdpFrameBuilder {
            src_mac: DEFAULT_SRC_MAC,
            dst_mac: None,
            vlan: None,
            src,
            dst,
            ttl: DEFAULT_TTL,
            identification: 0,
            tos: 0,
            dont_fragment: false,
            ip_options: Vec::new(),
            udp_checksum: true,
        }
    }

    pub fn src_mac(mut self, mac: [u8; 6]) -> Self {
        self.src_mac = mac;
        self
    }

    pub fn dst_mac(mut self, mac: [u8; 6]) -> Self {
        self.dst_mac = Some(mac);
        self
    }

    pub fn vlan(mut self, tag: VlanTag) -> Self {
        self.vlan = Some(tag);
        self
    }

    pub fn ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    pub fn identification(mut self, id: u16) -> Self {
        self.identification = id;
        self
    }

    pub fn tos(mut self, tos: u8) -> Self {
        self.tos = tos;
        self
    }

    pub fn dont_fragment(mut self, df: bool) -> Self {
        self.dont_fragment = df;
        self
    }

    pub fn ip_options(mut self, options: Vec<u8>) -> Self {
        self.ip_options = options;
        self
    }

    pub fn udp_checksum(mut self, on: bool) -> Self {
        self.udp_checksum = on;
        self
    }

    /// The destination MAC the frame will carry.
    pub fn resolved_dst_mac(&self) -> [u8; 6] {
        match self.dst_mac {
            Some(m) => m,
            None if self.dst.ip().is_multicast() => multicast_mac(*self.dst.ip()),
            None => DEFAULT_UNICAST_DST_MAC,
        }
    }

    /// One frame carrying `payload` as the UDP payload.
    pub fn build(&self, payload: &[u8]) -> Result<Vec<u8>, NetgenError> {
        let mut out = Vec::new();
        self.build_into(payload, &mut out)?;
        Ok(out)
    }

    /// As [`UdpFrameBuilder::build`], replacing the contents of `out`.
    pub fn build_into(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), NetgenError> {
        let opt_len = self.ip_options.len().div_ceil(4) * 4;
        if opt_len > MAX_IPV4_OPTIONS {
            return Err(NetgenError::OptionsTooLong(self.ip_options.len()));
        }
        if let Some(tag) = self.vlan {
            if tag.pcp > 7 || tag.vid > 0x0fff {
                return Err(NetgenError::BadVlan {
                    pcp: tag.pcp,
                    vid: tag.vid,
                });
            }
        }
        let ip_hdr_len = 20 + opt_len;
        let udp_len = 8 + payload.len();
        let total_len = u16::try_from(ip_hdr_len + udp_len)
            .map_err(|_| NetgenError::PayloadTooLarge(payload.len()))?;
        out.clear();
        out.reserve(18 + usize::from(total_len));
        out.extend_from_slice(&self.resolved_dst_mac());
        out.extend_from_slice(&self.src_mac);
        if let Some(tag) = self.vlan {
            out.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
            out.extend_from_slice(&tag.tci().to_be_bytes());
        }
        out.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());

        let ip_at = out.len();
        out.push(0x40 | (ip_hdr_len / 4) as u8);
        out.push(self.tos);
        out.extend_from_slice(&total_len.to_be_bytes());
        out.extend_from_slice(&self.identification.to_be_bytes());
        let flags: u16 = if self.dont_fragment { 0x4000 } else { 0 };
        out.extend_from_slice(&flags.to_be_bytes());
        out.push(self.ttl);
        out.push(IPPROTO_UDP);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.src.ip().octets());
        out.extend_from_slice(&self.dst.ip().octets());
        out.extend_from_slice(&self.ip_options);
        out.resize(ip_at + ip_hdr_len, 0);
        let csum = ipv4_checksum(&out[ip_at..ip_at + ip_hdr_len]);
        out[ip_at + 10..ip_at + 12].copy_from_slice(&csum.to_be_bytes());

        let udp_at = out.len();
        out.extend_from_slice(&self.src.port().to_be_bytes());
        out.extend_from_slice(&self.dst.port().to_be_bytes());
        // Fits: udp_len <= total_len, checked above.
        out.extend_from_slice(&(udp_len as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(payload);
        if self.udp_checksum {
            let c = udp_checksum(*self.src.ip(), *self.dst.ip(), &out[udp_at..]);
            out[udp_at + 6..udp_at + 8].copy_from_slice(&c.to_be_bytes());
        }
        if out.len() < MIN_FRAME_LEN {
            out.resize(MIN_FRAME_LEN, 0);
        }
        Ok(())
    }
}

/// The parts of an Ethernet/[802.1Q/]IPv4/UDP frame, as [`parse_udp`] finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpView<'a> {
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    pub vlan: Option<VlanTag>,
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub ttl: u8,
    pub identification: u16,
    /// IPv4 options as carried (including their padding).
    pub ip_options: &'a [u8],
    /// The UDP payload, `UDP length - 8` bytes (padding excluded).
    pub payload: &'a [u8],
    /// The IPv4 header checksum verifies.
    pub ip_checksum_ok: bool,
    /// The UDP checksum verifies, or is 0 (absent).
    pub udp_checksum_ok: bool,
}

/// Parses an unfragmented IPv4/UDP frame; `None` if it is not one or its lengths are
/// inconsistent. Checksums are reported, not enforced.
pub fn parse_udp(frame: &[u8]) -> Option<UdpView<'_>> {
    let be16 = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*frame.get(i)?, *frame.get(i + 1)?]))
    };
    let mac = |i: usize| -> Option<[u8; 6]> { frame.get(i..i + 6)?.try_into().ok() };
    let (dst_mac, src_mac) = (mac(0)?, mac(6)?);
    let (vlan, l2) = if be16(12)? == ETHERTYPE_VLAN {
        (Some(VlanTag::from_tci(be16(14)?)), 18)
    } else {
        (None, 14)
    };
    if be16(l2 - 2)? != ETHERTYPE_IPV4 {
        return None;
    }
    let vihl = *frame.get(l2)?;
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || frame.len() < l2 + ihl {
        return None;
    }
    let ip = &frame[l2..l2 + ihl];
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let frag = u16::from_be_bytes([ip[6], ip[7]]);
    if ip[9] != IPPROTO_UDP || frag & 0x3fff != 0 || total < ihl + 8 || l2 + total > frame.len() {
        return None;
    }
    let src_ip = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst_ip = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let udp = &frame[l2 + ihl..l2 + total];
    let udp_len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if udp_len != udp.len() {
        return None;
    }
    let sent = u16::from_be_bytes([udp[6], udp[7]]);
    let udp_checksum_ok = sent == 0 || {
        let mut seg = udp.to_vec();
        seg[6] = 0;
        seg[7] = 0;
        udp_checksum(src_ip, dst_ip, &seg) == sent
    };
    Some(UdpView {
        dst_mac,
        src_mac,
        vlan,
        src: SocketAddrV4::new(src_ip, u16::from_be_bytes([udp[0], udp[1]])),
        dst: SocketAddrV4::new(dst_ip, u16::from_be_bytes([udp[2], udp[3]])),
        ttl: ip[8],
        identification: u16::from_be_bytes([ip[4], ip[5]]),
        ip_options: &ip[20..],
        payload: &udp[8..],
        ip_checksum_ok: ipv4_checksum(ip) == 0,
        udp_checksum_ok,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(a: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(a), port)
    }

    #[test]
    fn ipv4_checksum_known_header() {
        // The classic example header (192.168.0.1 -> 192.168.0.199), checksum 0xb861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_checksum(&h), 0xb861);
        h[10] = 0xb8;
        h[11] = 0x61;
        assert_eq!(ipv4_checksum(&h), 0);
    }

    #[test]
    fn known_frame_bytes() {
        // 10.0.0.1:30000 -> 239.255.10.1:30001, payload "hi". Checksums computed by hand:
        // IPv4: words 4500+001e+0000+0000+4011+0a00+0001+efff+0a01 = 0x8931 folded, so 0x76ce.
        // UDP: pseudo-header 0a00+0001+efff+0a01+0011+000a, then 7530+7531+000a+0000+6869
        //      = 0x56f2 folded, so 0xa90d.
        let f = UdpFrameBuilder::new(sa([10, 0, 0, 1], 30000), sa([239, 255, 10, 1], 30001))
            .build(b"hi")
            .expect("build");
        let mut want = vec![
            0x01, 0x00, 0x5e, 0x7f, 0x0a, 0x01, // multicast MAC of 239.255.10.1
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // default source MAC
            0x08, 0x00, // IPv4
            0x45, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x76, 0xce, // IPv4
            0x0a, 0x00, 0x00, 0x01, 0xef, 0xff, 0x0a, 0x01, // addresses
            0x75, 0x30, 0x75, 0x31, 0x00, 0x0a, 0xa9, 0x0d, // UDP
            b'h', b'i',
        ];
        want.resize(60, 0);
        assert_eq!(f, want);
        let v = parse_udp(&f).expect("parse");
        assert_eq!(v.payload, b"hi");
        assert!(v.ip_checksum_ok && v.udp_checksum_ok);
    }

    #[test]
    fn multicast_mac_uses_low_23_bits() {
        assert_eq!(
            multicast_mac(Ipv4Addr::new(239, 255, 10, 1)),
            [0x01, 0x00, 0x5e, 0x7f, 0x0a, 0x01]
        );
        assert_eq!(
            multicast_mac(Ipv4Addr::new(224, 128, 0, 5)),
            [0x01, 0x00, 0x5e, 0x00, 0x00, 0x05]
        );
    }

    #[test]
    fn unicast_and_explicit_dst_mac() {
        let b = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([10, 0, 0, 2], 2));
        assert_eq!(b.resolved_dst_mac(), DEFAULT_UNICAST_DST_MAC);
        let m = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        let f = b.dst_mac(m).build(&[]).expect("build");
        assert_eq!(&f[..6], &m);
    }

    #[test]
    fn vlan_layout() {
        let tag = VlanTag {
            pcp: 5,
            dei: true,
            vid: 0x123,
        };
        let payload = vec![7u8; 100];
        let f = UdpFrameBuilder::new(sa([10, 0, 0, 1], 30000), sa([239, 1, 2, 3], 5000))
            .vlan(tag)
            .identification(0xbeef)
            .ttl(3)
            .build(&payload)
            .expect("build");
        assert_eq!(&f[12..14], &[0x81, 0x00]);
        // TCI: pcp 5 (101), DEI 1, vid 0x123.
        assert_eq!(&f[14..16], &[0xb1, 0x23]);
        assert_eq!(&f[16..18], &[0x08, 0x00]);
        assert_eq!(f[18], 0x45);
        assert_eq!(f.len(), 18 + 20 + 8 + 100);
        assert_eq!(ipv4_checksum(&f[18..38]), 0);
        let v = parse_udp(&f).expect("parse");
        assert_eq!(v.vlan, Some(tag));
        assert_eq!((v.identification, v.ttl), (0xbeef, 3));
        assert_eq!(v.dst, sa([239, 1, 2, 3], 5000));
        assert_eq!(v.payload, &payload[..]);
        assert!(v.ip_checksum_ok && v.udp_checksum_ok);
    }

    #[test]
    fn options_set_ihl_and_are_padded() {
        // Router alert (4 bytes) plus a 3-byte NOP run, padded to 8 bytes: IHL 7.
        let opts = vec![0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01];
        let f = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([10, 0, 0, 9], 2))
            .ip_options(opts.clone())
            .build(&[1, 2, 3, 4])
            .expect("build");
        assert_eq!(f[14], 0x47);
        assert_eq!(&f[16..18], &(28u16 + 8 + 4).to_be_bytes());
        assert_eq!(&f[34..41], &opts[..]);
        assert_eq!(f[41], 0);
        assert_eq!(ipv4_checksum(&f[14..42]), 0);
        let v = parse_udp(&f).expect("parse");
        assert_eq!(v.ip_options.len(), 8);
        assert_eq!(v.payload, &[1, 2, 3, 4]);
        assert!(v.udp_checksum_ok);

        let too_long = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([10, 0, 0, 9], 2))
            .ip_options(vec![1; 41])
            .build(&[]);
        assert_eq!(too_long, Err(NetgenError::OptionsTooLong(41)));
        let max = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([10, 0, 0, 9], 2))
            .ip_options(vec![1; 40])
            .build(&[])
            .expect("40 bytes of options fit");
        assert_eq!(max[14], 0x4f);
    }

    #[test]
    fn padding_to_minimum_only_when_short() {
        let b = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([239, 0, 0, 1], 2));
        assert_eq!(b.build(&[]).expect("build").len(), 60);
        assert_eq!(b.build(&[0; 17]).expect("build").len(), 60);
        assert_eq!(b.build(&[0; 18]).expect("build").len(), 60);
        assert_eq!(b.build(&[0; 19]).expect("build").len(), 61);
        // The padding is not part of the datagram.
        let f = b.build(&[9; 3]).expect("build");
        assert_eq!(&f[16..18], &31u16.to_be_bytes());
        assert_eq!(parse_udp(&f).expect("parse").payload, &[9, 9, 9]);
        assert!(f[45..].iter().all(|&x| x == 0));
    }

    #[test]
    fn udp_checksum_zero_becomes_ffff_and_can_be_disabled() {
        let f = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([239, 0, 0, 1], 2))
            .udp_checksum(false)
            .build(b"x")
            .expect("build");
        assert_eq!(&f[40..42], &[0, 0]);
        // A segment whose sum is 0xffff before complementing gets 0xffff, not 0.
        let src = Ipv4Addr::new(0, 0, 0, 0);
        let dst = Ipv4Addr::new(0, 0, 0, 0);
        // pseudo: 0x0011 + 0x000a; header: ports, length 0x000a; payload word w makes 0xffff.
        let base = 0x11u32 + 0x0a + 0x0a;
        let w = (0xffff - base) as u16;
        let seg = [0, 0, 0, 0, 0, 0x0a, 0, 0, (w >> 8) as u8, w as u8];
        assert_eq!(udp_checksum(src, dst, &seg), 0xffff);
    }

    #[test]
    fn oversized_payload_is_refused() {
        let b = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([239, 0, 0, 1], 2));
        assert!(b.build(&vec![0; 65_507]).is_ok());
        assert_eq!(
            b.build(&vec![0; 65_508]),
            Err(NetgenError::PayloadTooLarge(65_508))
        );
    }

    #[test]
    fn parse_rejects_non_udp_and_short() {
        assert!(parse_udp(&[0; 10]).is_none());
        let mut f = UdpFrameBuilder::new(sa([10, 0, 0, 1], 1), sa([239, 0, 0, 1], 2))
            .build(b"abc")
            .expect("build");
        f[23] = 6;
        assert!(parse_udp(&f).is_none());
    }
}
