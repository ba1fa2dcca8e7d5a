//! The contract's view calls: tokens by fingerprint, scan and cell, the survey history,
//! pledge, footprint and valuation state, and the transfer pre-check — what `verify`, the
//! officer's view and the CLI read. One path ([`Chain::read`]) classifies their errors.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolCall;

use super::client::{Chain, FootprintInfo, PledgeInfo, SurveyEntry, ValuationInfo, token_u64};
use super::error::ChainResult;

impl Chain {
    /// One view call of the contract; `name` (the Solidity function) labels its errors.
    pub(super) async fn read<C: SolCall>(
        &self,
        name: &str,
        call: alloy::contract::SolCallBuilder<&DynProvider, C>,
    ) -> ChainResult<C::Return> {
        call.call().await.map_err(|e| self.call_error(name, e))
    }

    /// The token holding `fingerprint` (minted or appended by a resurvey), if any.
    pub async fn token_of_fingerprint(&self, fingerprint: B256) -> ChainResult<Option<u64>> {
        let c = self.contract()?;
        optional_token(
            self.read("tokenOfFingerprint", c.tokenOfFingerprint(fingerprint))
                .await?,
        )
    }

    pub async fn is_minted(&self, fingerprint: B256) -> ChainResult<bool> {
        Ok(self.token_of_fingerprint(fingerprint).await?.is_some())
    }

    /// Every fingerprint of the token, oldest first (what `verify` compares against).
    pub async fn history(&self, token_id: u64) -> ChainResult<Vec<B256>> {
        let c = self.contract()?;
        self.read("history", c.history(U256::from(token_id))).await
    }

    /// Every survey of the token with capture hash, surveyor and time.
    pub async fn surveys(&self, token_id: u64) -> ChainResult<Vec<SurveyEntry>> {
        let c = self.contract()?;
        let list = self
            .read("surveys", c.surveys(U256::from(token_id)))
            .await?;
        Ok(list
            .into_iter()
            .map(|s| SurveyEntry {
                fingerprint: s.fingerprint,
                scan_root: s.scanRoot,
                capture_hash: s.captureHash,
                footprint_root: s.footprintRoot,
                cell_count: s.cellCount,
                surveyor: s.surveyor,
                timestamp: s.timestamp,
                drift_hash: s.driftHash,
            })
            .collect())
    }

    /// The latest fingerprint.
    pub async fn fingerprint_of(&self, token_id: u64) -> ChainResult<B256> {
        let c = self.contract()?;
        self.read("fingerprintOf", c.fingerprintOf(U256::from(token_id)))
            .await
    }

    /// The token's metadata URI (the package's `metadata.json`, e.g. `ipfs://…`).
    pub async fn token_uri(&self, token_id: u64) -> ChainResult<String> {
        let c = self.contract()?;
        self.read("tokenURI", c.tokenURI(U256::from(token_id)))
            .await
    }

    pub async fn owner_of(&self, token_id: u64) -> ChainResult<Address> {
        let c = self.contract()?;
        self.read("ownerOf", c.ownerOf(U256::from(token_id))).await
    }

    pub async fn pledge_of(&self, token_id: u64) -> ChainResult<Option<PledgeInfo>> {
        let c = self.contract()?;
        let p = self
            .read("pledgeOf", c.pledgeOf(U256::from(token_id)))
            .await?;
        Ok((p.lender != Address::ZERO).then_some(PledgeInfo {
            lender: p.lender,
            owner: p.owner,
            loan_ref: p.loanRef,
            since: p.since,
            seizable_after: p.seizableAfter,
            expires_at: p.expiresAt,
            accepted: p.accepted,
        }))
    }

    /// The latest survey's footprint claim.
    pub async fn footprint_of(&self, token_id: u64) -> ChainResult<FootprintInfo> {
        let c = self.contract()?;
        let f = self
            .read("footprintOf", c.footprintOf(U256::from(token_id)))
            .await?;
        Ok(FootprintInfo {
            root: f.root,
            expected: f.expected,
            claimed: f.claimed,
        })
    }

    /// The token whose survey has this scan (cloud Merkle) root, if any.
    pub async fn token_of_scan(&self, scan_root: B256) -> ChainResult<Option<u64>> {
        let c = self.contract()?;
        optional_token(self.read("tokenOfScan", c.tokenOfScan(scan_root)).await?)
    }

    /// The token holding this H3 cell, if any.
    pub async fn token_of_cell(&self, cell: u64) -> ChainResult<Option<u64>> {
        let c = self.contract()?;
        optional_token(self.read("tokenOfCell", c.tokenOfCell(cell)).await?)
    }

    pub async fn valuation_of(&self, token_id: u64) -> ChainResult<Option<ValuationInfo>> {
        let c = self.contract()?;
        let v = self
            .read("valuationOf", c.valuationOf(U256::from(token_id)))
            .await?;
        Ok((v.oracle != Address::ZERO).then_some(ValuationInfo {
            value: v.value,
            currency: v.currency,
            as_of: v.asOf,
            oracle: v.oracle,
        }))
    }

    /// ERC-7943-style pre-check: would `from → to` of `token_id` pass the KYC and pledge rules?
    pub async fn can_transfer(
        &self,
        from: Address,
        to: Address,
        token_id: u64,
    ) -> ChainResult<bool> {
        let c = self.contract()?;
        self.read("canTransfer", c.canTransfer(from, to, U256::from(token_id)))
            .await
    }
}

/// A token id where 0 means none.
fn optional_token(id: U256) -> ChainResult<Option<u64>> {
    if id.is_zero() {
        Ok(None)
    } else {
        token_u64(id).map(Some)
    }
}
