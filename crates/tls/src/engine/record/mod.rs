//! The TLS 1.2 record layer. Each suite's protection is a [`Protection`]: the SRP suites' AES-CBC
//! with HMAC-SHA1 (explicit IVs, Encrypt-then-MAC (RFC 7366) or MAC-then-encrypt with
//! constant-time checks against Lucky 13), the PSK suites' AEADs (`aead12.rs`) and their
//! CBC with HMAC-SHA256, Encrypt-then-MAC only (`cbc_sha256.rs`).
//!
//! The SRP suites' records are the fast path here.
//! Speed comes from keeping both units busy: sealing encrypts up to [`LANES`] records side by
//! side and hashes each one's ciphertext as it comes out ([`cbc_lanes`]); opening decrypts
//! each stretch of a record right after hashing it. Both work in place in the record buffer,
//! and HMAC's key pads are hashed once per connection ([`hmac_sha1`]).

mod aead12;
mod cbc_lanes;
mod cbc_sha256;
mod hmac_sha1;
mod sha1_lanes;

pub(crate) use aead12::{Aead12, Aead12Kind};
pub(crate) use cbc_sha256::{CbcSha256, MAC_LEN as SHA256_MAC_LEN};

use aes::cipher::consts::U16;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockCipher, BlockDecrypt, BlockDecryptMut, InnerIvInit, KeyInit};
use aes::{Aes128, Aes256};
use subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater, ConstantTimeLess};

use super::msgs::TLS12;
use cbc_lanes::{Lane, LANES};
use hmac_sha1::{update_side_by_side, HmacSha1, Sha1Blocks};
use sha1_lanes::Avx512;

pub(crate) const MAC_LEN: usize = 20;
const BLOCK: usize = 16;
/// Largest plaintext in one record (RFC 5246 §6.2.1).
pub(crate) const MAX_PLAINTEXT: usize = 1 << 14;
/// Largest record body accepted (RFC 5246 §6.2.3: 2^14 + 2048).
pub(crate) const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 2048;
/// Most records sealed or opened side by side.
pub(crate) const MAX_BATCH: usize = LANES;
// A batch of CBC lanes is hashed in one go of SHA-1 lanes.
const _: () = assert!(LANES == sha1_lanes::LANES);
/// Opening hashes and then decrypts this many bytes at a time, so the two overlap in the CPU.
const OPEN_STRETCH: usize = 512;
/// From this many records at once, their MACs run side by side in vector lanes (where the CPU
/// has AVX-512): eight lanes of which three are used already beat SHA-NI on one stream. From
/// `record_speed` below, AES-128: three records seal at 956 MB/s side by side (885 with this
/// set to four) and open together at 1,349 MB/s against 1,186 one by one; two records are
/// faster one by one.
const SIDE_BY_SIDE_FROM: usize = 3;

/// A record failed to open: always `bad_record_mac`, whatever the cause, so padding and MAC
/// failures look the same.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadRecord;

// Both variants live inline: one cipher state per direction, no indirection per record.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
enum Aes {
    A128(Aes128),
    A256(Aes256),
}

/// One direction's record protection, whichever the suite.
// Each variant lives inline: one per direction, no indirection per record.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Protection {
    /// The SRP suites: AES-CBC with HMAC-SHA1.
    CbcSha1(CipherState),
    /// TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256.
    CbcSha256(CbcSha256),
    /// AES-GCM and ChaCha20-Poly1305.
    Aead(Aead12),
}

impl Protection {
    /// Seals `data` as records of `content_type` (IVs from `iv` where the suite sends them).
    pub(crate) fn seal_all(
        &mut self,
        content_type: u8,
        data: &[u8],
        iv: &mut dyn FnMut() -> [u8; BLOCK],
        out: &mut Vec<u8>,
    ) {
        match self {
            Self::CbcSha1(state) => state.seal_all(content_type, data, iv, out),
            Self::CbcSha256(state) => state.seal_all(content_type, data, iv, out),
            Self::Aead(state) => state.seal_all(content_type, data, out),
        }
    }

    /// How many more records may be sealed under this key (the CBC suites: no limit here).
    pub(crate) fn records_left(&self) -> u64 {
        match self {
            Self::CbcSha1(_) | Self::CbcSha256(_) => u64::MAX,
            Self::Aead(state) => state.records_left(),
        }
    }

    /// Checks and decrypts a record body in place; the plaintext's range in `body`.
    pub(crate) fn open(
        &mut self,
        content_type: u8,
        body: &mut [u8],
    ) -> Result<std::ops::Range<usize>, BadRecord> {
        match self {
            Self::CbcSha1(state) => state.open(content_type, body),
            Self::CbcSha256(state) => state.open(content_type, body),
            Self::Aead(state) => state.open(content_type, body),
        }
    }

    /// How many records are worth opening at once (see [`CipherState::open_batch`]).
    pub(crate) fn open_batch(&self) -> usize {
        match self {
            Self::CbcSha1(state) => state.open_batch(),
            _ => 1,
        }
    }

    /// Opens consecutive records together (see [`CipherState::open_many`]); one by one for
    /// the suites that gain nothing from it.
    pub(crate) fn open_many(
        &mut self,
        content_type: u8,
        bodies: &mut [&mut [u8]],
        ranges: &mut [std::ops::Range<usize>],
    ) -> Result<(), usize> {
        if let Self::CbcSha1(state) = self {
            return state.open_many(content_type, bodies, ranges);
        }
        for (i, (body, range)) in bodies.iter_mut().zip(ranges).enumerate() {
            *range = self.open(content_type, body).map_err(|_| i)?;
        }
        Ok(())
    }
}

/// One direction's keys and sequence number.
pub(crate) struct CipherState {
    aes: Aes,
    mac: HmacSha1,
    seq: u64,
    etm: bool,
    avx512: Option<Avx512>,
}

/// What the MAC covers before the record's own bytes (RFC 5246 §6.2.3.1).
fn mac_header(seq: u64, content_type: u8, len: usize) -> [u8; 13] {
    let mut header = [0u8; 13];
    header[..8].copy_from_slice(&seq.to_be_bytes());
    header[8] = content_type;
    header[9..11].copy_from_slice(&TLS12.to_be_bytes());
    header[11..].copy_from_slice(&(len as u16).to_be_bytes());
    header
}

impl CipherState {
    pub(crate) fn new(key: &[u8], mac_key: &[u8], etm: bool) -> Self {
        let aes = match key.len() {
            16 => Aes::A128(Aes128::new_from_slice(key).expect("16-byte key")),
            _ => Aes::A256(Aes256::new_from_slice(key).expect("32-byte key")),
        };
        Self {
            aes,
            mac: HmacSha1::new(mac_key),
            seq: 0,
            etm,
            avx512: sha1_lanes::avx512(),
        }
    }

    fn next_seq(&mut self) -> Result<(), BadRecord> {
        // 2^64 records would wrap the sequence number: refuse rather than reuse one.
        self.seq = self.seq.checked_add(1).ok_or(BadRecord)?;
        Ok(())
    }

    /// Encrypts `plaintext` (at most 2^14 bytes) and appends the whole record to `out`.
    #[cfg(test)]
    pub(crate) fn seal(
        &mut self,
        content_type: u8,
        plaintext: &[u8],
        iv: [u8; BLOCK],
        out: &mut Vec<u8>,
    ) {
        self.seal_all(content_type, plaintext, &mut || iv, out);
    }

    /// Encrypts `data` as records of at most 2^14 bytes (one empty record when it is empty),
    /// IVs from `iv`, and appends them to `out`.
    pub(crate) fn seal_all(
        &mut self,
        content_type: u8,
        data: &[u8],
        iv: &mut dyn FnMut() -> [u8; BLOCK],
        out: &mut Vec<u8>,
    ) {
        if data.is_empty() {
            return self.seal_group(content_type, &[data], iv, out);
        }
        for span in data.chunks(LANES * MAX_PLAINTEXT) {
            let mut pieces = [&span[..0]; LANES];
            let mut n = 0;
            for (slot, piece) in pieces.iter_mut().zip(span.chunks(MAX_PLAINTEXT)) {
                *slot = piece;
                n += 1;
            }
            self.seal_group(content_type, &pieces[..n], iv, out);
        }
    }

    /// Seals up to [`LANES`] records side by side.
    fn seal_group(
        &mut self,
        content_type: u8,
        pieces: &[&[u8]],
        iv: &mut dyn FnMut() -> [u8; BLOCK],
        out: &mut Vec<u8>,
    ) {
        let n = pieces.len();
        let tag_len = if self.etm { MAC_LEN } else { 0 };
        let mac_inside = MAC_LEN - tag_len;
        // Where each record's IV starts, how long its encrypted part is, and (EtM) its MAC so
        // far: header and IV now, the ciphertext as it is produced.
        let mut places = [(0usize, 0usize); LANES];
        let mut macs: [Sha1Blocks; LANES] = std::array::from_fn(|_| self.mac.start());
        let first = out.len();
        for (i, plaintext) in pieces.iter().enumerate() {
            let seq = self.seq.wrapping_add(i as u64);
            let unpadded = plaintext.len() + mac_inside;
            let pad = BLOCK - unpadded % BLOCK; // 1..=16 bytes, each holding pad - 1
            let body_len = BLOCK + unpadded + pad + tag_len;
            out.reserve(5 + body_len);
            out.push(content_type);
            out.extend_from_slice(&TLS12.to_be_bytes());
            out.extend_from_slice(&(body_len as u16).to_be_bytes());
            places[i] = (out.len(), unpadded + pad);
            let iv = iv();
            out.extend_from_slice(&iv);
            out.extend_from_slice(plaintext);
            if self.etm {
                macs[i].update(&mac_header(seq, content_type, BLOCK + unpadded + pad));
                macs[i].update(&iv);
            } else {
                let header = mac_header(seq, content_type, plaintext.len());
                out.extend_from_slice(&self.mac.mac(&[&header, plaintext]));
            }
            out.extend(std::iter::repeat_n((pad - 1) as u8, pad));
            // Encrypt-then-MAC: room for the tag, written once the record is encrypted.
            out.extend_from_slice(&[0; MAC_LEN][..tag_len]);
        }
        let mut lanes: [Lane<'_>; LANES] = Default::default();
        let mut rest = &mut out[first..];
        let mut offset = first;
        for (lane, &(iv_at, len)) in lanes.iter_mut().zip(&places[..n]) {
            let (_, tail) = rest.split_at_mut(iv_at - offset);
            let (iv, tail) = tail.split_at_mut(BLOCK);
            let (data, tail) = tail.split_at_mut(len);
            *lane = Lane {
                iv: iv.try_into().unwrap_or([0; BLOCK]),
                data,
            };
            offset = iv_at + BLOCK + len;
            rest = tail;
        }
        let lanes = &mut lanes[..n];
        let mut hashed = [0usize; LANES];
        let mut follow_etm = |k: usize, done: &[u8]| {
            hashed[k] += macs[k].update_blocks(&done[hashed[k]..]);
        };
        let mut nothing = |_: usize, _: &[u8]| {};
        // Many records: their MACs run side by side after encryption. Few: each one's MAC is
        // fed while the AES unit works on the next blocks.
        let side_by_side = self.avx512.filter(|_| self.etm && n >= SIDE_BY_SIDE_FROM);
        let follow: &mut dyn FnMut(usize, &[u8]) = match self.etm && side_by_side.is_none() {
            true => &mut follow_etm,
            false => &mut nothing,
        };
        match &self.aes {
            Aes::A128(k) => cbc_lanes::encrypt(k, lanes, follow),
            Aes::A256(k) => cbc_lanes::encrypt(k, lanes, follow),
        }
        let mut tags = [[0u8; MAC_LEN]; LANES];
        if let Some(simd) = side_by_side {
            for ((mac, done), lane) in macs.iter_mut().zip(&mut hashed).zip(lanes.iter()) {
                *done += mac.complete_block(&lane.data[*done..]);
            }
            let mut rest = [&[][..]; LANES];
            for ((rest, lane), &done) in rest.iter_mut().zip(lanes.iter()).zip(&hashed) {
                *rest = &lane.data[done..];
            }
            let took = update_side_by_side(simd, &mut macs[..n], &rest[..n]);
            for done in &mut hashed[..n] {
                *done += took;
            }
        }
        if self.etm {
            for ((tag, mac), (lane, &done)) in tags
                .iter_mut()
                .zip(&mut macs)
                .zip(lanes.iter().zip(&hashed))
            {
                mac.update(&lane.data[done..]);
                *tag = self.mac.finish(mac.clone());
            }
        }
        for (tag, &(iv_at, len)) in tags.iter().zip(&places[..n]) {
            let end = iv_at + BLOCK + len;
            out[end..end + tag_len].copy_from_slice(&tag[..tag_len]);
        }
        // Sealing cannot run past 2^64 records in practice; opening checks and refuses.
        self.seq = self.seq.wrapping_add(n as u64);
    }

    /// Checks and decrypts a record body in place; returns the plaintext's range in `body`.
    pub(crate) fn open(
        &mut self,
        content_type: u8,
        body: &mut [u8],
    ) -> Result<std::ops::Range<usize>, BadRecord> {
        let range = if self.etm {
            self.open_etm(content_type, body)?
        } else {
            self.open_mte(content_type, body)?
        };
        self.next_seq()?;
        Ok(range)
    }

    /// How many records are worth handing to [`open_many`](Self::open_many) at once: up to
    /// [`MAX_BATCH`] where their MACs run side by side, else one.
    pub(crate) fn open_batch(&self) -> usize {
        match self.avx512 {
            Some(_) if self.etm => MAX_BATCH,
            _ => 1,
        }
    }

    /// Opens consecutive records of `content_type` (at most [`LANES`]) in place, their MACs
    /// checked side by side; `ranges[i]` gets record `i`'s plaintext range. `Err(i)`: record `i`
    /// is bad; the ones before it are open and counted, nothing after it is.
    pub(crate) fn open_many(
        &mut self,
        content_type: u8,
        bodies: &mut [&mut [u8]],
        ranges: &mut [std::ops::Range<usize>],
    ) -> Result<(), usize> {
        let n = bodies.len().min(ranges.len()).min(LANES);
        let well_formed = |b: &[u8]| {
            b.len() >= BLOCK + BLOCK + MAC_LEN && (b.len() - MAC_LEN).is_multiple_of(BLOCK)
        };
        let simd = match self.avx512 {
            Some(simd) if self.etm && n >= SIDE_BY_SIDE_FROM => simd,
            // One by one: the same results, record by record.
            _ => return self.open_one_by_one(content_type, &mut bodies[..n], ranges),
        };
        if let Some(bad) = bodies[..n].iter().position(|b| !well_formed(b)) {
            // Open the good ones before it (one by one), then report it.
            self.open_one_by_one(content_type, &mut bodies[..bad], ranges)?;
            return Err(bad);
        }
        // MACs over header, IV and ciphertext: each brought to a block boundary, then the
        // blocks all of them have side by side, then each one's rest.
        let mut macs: [Sha1Blocks; LANES] = std::array::from_fn(|_| self.mac.start());
        let mut hashed = [0usize; LANES];
        let mut sealed = [&[][..]; LANES];
        for (i, body) in bodies[..n].iter().enumerate() {
            let seal_len = body.len() - MAC_LEN;
            let seq = self.seq.wrapping_add(i as u64);
            macs[i].update(&mac_header(seq, content_type, seal_len));
            sealed[i] = &body[..seal_len];
            hashed[i] = macs[i].complete_block(sealed[i]);
        }
        let mut rest = [&[][..]; LANES];
        for ((rest, sealed), &done) in rest.iter_mut().zip(&sealed).zip(&hashed) {
            *rest = &sealed[done..];
        }
        let took = update_side_by_side(simd, &mut macs[..n], &rest[..n]);
        let mut good = [false; LANES];
        for (i, body) in bodies[..n].iter().enumerate() {
            let mac = &mut macs[i];
            mac.update(&rest[i][took..]);
            let expected = self.mac.finish(mac.clone());
            good[i] = bool::from(expected.ct_eq(&body[body.len() - MAC_LEN..]));
        }
        for (i, body) in bodies[..n].iter_mut().enumerate() {
            if !good[i] {
                return Err(i);
            }
            let seal_len = body.len() - MAC_LEN;
            let (iv, data) = body[..seal_len].split_at_mut(BLOCK);
            let iv: &[u8; BLOCK] = (&*iv).try_into().map_err(|_| i)?;
            self.decrypt(iv, data, None);
            ranges[i] = unpad(data).map_err(|_| i)?;
            self.next_seq().map_err(|_| i)?;
        }
        Ok(())
    }

    fn open_one_by_one(
        &mut self,
        content_type: u8,
        bodies: &mut [&mut [u8]],
        ranges: &mut [std::ops::Range<usize>],
    ) -> Result<(), usize> {
        for (i, (body, range)) in bodies.iter_mut().zip(ranges).enumerate() {
            *range = self.open(content_type, body).map_err(|_| i)?;
        }
        Ok(())
    }

    /// Encrypt-then-MAC: each stretch of ciphertext is hashed, then decrypted in place. Nothing
    /// decrypted is looked at (the padding) or handed out before the whole MAC has matched.
    fn open_etm(
        &self,
        content_type: u8,
        body: &mut [u8],
    ) -> Result<std::ops::Range<usize>, BadRecord> {
        if body.len() < BLOCK + BLOCK + MAC_LEN || !(body.len() - MAC_LEN).is_multiple_of(BLOCK) {
            return Err(BadRecord);
        }
        let (sealed, tag) = body.split_at_mut(body.len() - MAC_LEN);
        let mut mac = self.mac.start();
        mac.update(&mac_header(self.seq, content_type, sealed.len()));
        let (iv, data) = sealed.split_at_mut(BLOCK);
        mac.update(iv);
        let iv: &[u8; BLOCK] = (&*iv).try_into().map_err(|_| BadRecord)?;
        self.decrypt(iv, data, Some(&mut mac));
        if !bool::from(self.mac.finish(mac).ct_eq(tag)) {
            return Err(BadRecord);
        }
        unpad(data)
    }

    /// CBC-decrypts whole blocks in place; with a `mac`, each stretch is hashed into it just
    /// before it is decrypted, so SHA-1 and AES overlap in the CPU.
    fn decrypt(&self, iv: &[u8; BLOCK], data: &mut [u8], mac: Option<&mut Sha1Blocks>) {
        match &self.aes {
            Aes::A128(k) => cbc_decrypt(k, iv, data, mac),
            Aes::A256(k) => cbc_decrypt(k, iv, data, mac),
        }
    }

    /// CBC-encrypts whole blocks in place, one record alone (tests build records with it).
    #[cfg(test)]
    fn encrypt(&self, iv: &[u8; BLOCK], data: &mut [u8]) {
        let mut lane = [Lane { iv: *iv, data }];
        match &self.aes {
            Aes::A128(k) => cbc_lanes::encrypt(k, &mut lane, &mut |_, _| {}),
            Aes::A256(k) => cbc_lanes::encrypt(k, &mut lane, &mut |_, _| {}),
        }
    }

    /// MAC-then-encrypt: padding and MAC are checked without branching on secret data, the MAC
    /// computation always runs as many SHA-1 compressions as the longest possible content would
    /// need, and the received MAC is read from every place it could be.
    fn open_mte(
        &self,
        content_type: u8,
        body: &mut [u8],
    ) -> Result<std::ops::Range<usize>, BadRecord> {
        if body.len() < BLOCK + 2 * BLOCK || !(body.len() - BLOCK).is_multiple_of(BLOCK) {
            return Err(BadRecord);
        }
        let (iv, data) = body.split_at_mut(BLOCK);
        let iv: &[u8; BLOCK] = (&*iv).try_into().map_err(|_| BadRecord)?;
        self.decrypt(iv, data, None);
        let len = data.len();
        let pad = data[len - 1];
        // good = pad + 1 + MAC_LEN <= len, computed without a branch.
        let needed = u32::from(pad) + 1 + MAC_LEN as u32;
        let mut good = !needed.ct_gt(&(len as u32));
        // Every byte of the last 256 (or all there are) that lies within the padding must equal pad.
        let check = len.min(256);
        for i in 1..=check {
            let byte = data[len - i];
            // Byte i from the end (the length byte is i = 1) is padding when i <= pad + 1.
            let in_pad = (i as u32).ct_lt(&(u32::from(pad) + 2));
            good &= !in_pad | byte.ct_eq(&pad);
        }
        // With bad padding, act as if there were none, so the work done stays the same.
        let pad_len = usize::from(u8::conditional_select(&0, &pad, good)) + 1;
        let content_len = len - pad_len - MAC_LEN;
        // Content is at least this long whatever the padding says: that much is public.
        let max_content = len - 1 - MAC_LEN;
        let min_content = len.saturating_sub(256 + MAC_LEN);
        let expected = self.mac.mac_secret_len(
            &mac_header(self.seq, content_type, content_len),
            &data[..min_content],
            &data[min_content..max_content],
            content_len - min_content,
        );
        good &= expected.ct_eq(&mac_at(data, min_content..=max_content, content_len));
        if !bool::from(good) {
            return Err(BadRecord);
        }
        Ok(BLOCK..BLOCK + content_len)
    }
}

fn cbc_decrypt<C>(cipher: &C, iv: &[u8; BLOCK], data: &mut [u8], mac: Option<&mut Sha1Blocks>)
where
    C: BlockDecrypt<BlockSize = U16> + BlockCipher + Clone,
{
    let mut cbc = cbc::Decryptor::<C>::inner_iv_init(cipher.clone(), iv.into());
    let mut decrypt = |blocks: &mut [u8]| {
        let (blocks, rest) = InOutBuf::from(blocks).into_chunks::<U16>();
        debug_assert!(rest.is_empty(), "whole blocks");
        cbc.decrypt_blocks_inout_mut(blocks);
    };
    let Some(mac) = mac else {
        return decrypt(data);
    };
    // Hashing runs ahead by whole SHA-1 blocks; decryption follows up to where it has reached.
    let (mut hashed, mut decrypted) = (0, 0);
    while hashed + OPEN_STRETCH < data.len() {
        hashed += mac.update_blocks(&data[hashed..hashed + OPEN_STRETCH]);
        let upto = hashed / BLOCK * BLOCK;
        decrypt(&mut data[decrypted..upto]);
        decrypted = upto;
    }
    mac.update(&data[hashed..]);
    decrypt(&mut data[decrypted..]);
}

/// The plaintext's range in a record body whose decrypted part (after the IV) is `data`,
/// checked by a MAC already: the padding check need not hide timing.
fn unpad(data: &[u8]) -> Result<std::ops::Range<usize>, BadRecord> {
    let pad = usize::from(*data.last().ok_or(BadRecord)?);
    if pad + 1 > data.len()
        || data[data.len() - 1 - pad..]
            .iter()
            .any(|b| usize::from(*b) != pad)
    {
        return Err(BadRecord);
    }
    Ok(BLOCK..BLOCK + data.len() - pad - 1)
}

/// The 20 bytes at `data[at..]`, `at` secret within `candidates`: every candidate position is
/// read and all but the right one masked away.
fn mac_at(data: &[u8], candidates: std::ops::RangeInclusive<usize>, at: usize) -> [u8; MAC_LEN] {
    let mut mac = [0u8; MAC_LEN];
    for start in candidates {
        let here = (start as u64).ct_eq(&(at as u64));
        for (out, byte) in mac.iter_mut().zip(&data[start..start + MAC_LEN]) {
            *out |= u8::conditional_select(&0, byte, here);
        }
    }
    mac
}

#[cfg(test)]
mod tests;
