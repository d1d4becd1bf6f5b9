//! Built-in vendor roots, pinned by SHA-256 of their SubjectPublicKeyInfo DER.
//!
//! GENERATED from every self-signed certificate (its own signature verifies) in
//! `../shared/vectors/tpm-roots` (keylime's tpm_cert_store, Microsoft's TrustedTpm.cab
//! of 2024-11-21, AMD fTPM AIA roots, tpm-ca-certificates, go-tpm-tools and the Azure
//! vTPM roots; sources in that folder's INDEX.md). The certificates stay there; only
//! these fingerprints are copied. Regenerate with:
//!
//! ```text
//! cargo test -p cerd-attestation --test chain print_pinned_table -- --ignored --nocapture \
//!   | sed -n '/^\/\/ BEGIN pinned.rs$/,/^\/\/ END pinned.rs$/p' | sed '1d;$d' \
//!   > attestation/src/roots/pinned.rs
//! ```
//!
//! `tests/chain.rs` (`pinned_table_is_the_roots_of_the_vectors`) fails when this table
//! and the vectors disagree.

use super::{hex32, Pin};

/// The 48 pinned roots, by vendor.
pub const PINNED: &[Pin] = &[
    // microsoft-TrustedTpm-cab-2024-11-21/AMD/RootCA/AMD-Root-CA.crt
    Pin {
        vendor: "AMD",
        subject: "CN=AMD Root CA R4,OU=IT,O=Advanced Micro Devices\\, Inc,L=Santa Clara,ST=California,C=US",
        spki_sha256: hex32("77535bf62aa80216bb20b38125554d0fde661d678333777b67745679baac6bd8"),
    },
    // amd-ftpm-aia-roots/23452201D41C5AB064032BD23F158FEF.crt
    Pin {
        vendor: "AMD fTPM",
        subject: "CN=AMDTPM,O=Advanced Micro Devices,ST=CA,L=Sunnyvale,C=US,OU=Engineering",
        spki_sha256: hex32("5cf1859ffbd2cd18c13345d47692bea4ea2464fbfb74298364fa979e833229f6"),
    },
    // amd-ftpm-aia-roots/264D39A23CEB5D5B49D610044EEBD121.crt
    Pin {
        vendor: "AMD fTPM",
        subject: "CN=AMDTPM,O=Advanced Micro Devices,ST=CA,L=Sunnyvale,C=US,OU=Engineering",
        spki_sha256: hex32("899b9c9d6e926c40aaefbea3905173f00f7b52ad6eb4d2d32e6fcb1979710e2b"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Atmel/RootCA/Atmel TPM Root Signing Module.der
    Pin {
        vendor: "Atmel",
        subject: "CN=Atmel TPM Root Signing Module,O=Atmel,L=Colorado Springs,ST=Colorado,C=US",
        spki_sha256: hex32("95d0d9dd3e6a49bc028476c08fe985c6183bd1fcb575a6d3818061a89a2aa49a"),
    },
    // azure-vtpm/Azure_Virtual_TPM_Root_CA_2023.pem
    Pin {
        vendor: "Azure vTPM",
        subject: "CN=Azure Virtual TPM Root Certificate Authority 2023,O=Microsoft Corporation,C=US",
        spki_sha256: hex32("5cbc52672ae101263c2976736044a964c1182ce9412c39937183baddcccb8cdf"),
    },
    // azure-vtpm/Microsoft_RSA_Devices_Root_CA_2021.pem
    Pin {
        vendor: "Azure vTPM",
        subject: "CN=Microsoft RSA Devices Root CA 2021,O=Microsoft Corporation,C=US",
        spki_sha256: hex32("d61ed293962f1f6ceb26ea9ec1c5a8c6cab38e73671f27c22df90e47977707ff"),
    },
    // google-gce/gcp_ek_ak_ca_root.crt
    Pin {
        vendor: "Google GCE",
        subject: "CN=EK/AK CA Root,OU=Google Cloud,O=Google LLC,L=Mountain View,ST=California,C=US",
        spki_sha256: hex32("56a613f57126a385dd6949294e93b0b566f96ab0573be0c2368e6f5ca779831f"),
    },
    // google-gce/tpm_ek_root_1.cer
    Pin {
        vendor: "Google GCE",
        subject: "CN=tpm_ek_v1_cloud_host_root-signer-0-2018-04-06T10:58:26-07:00 K:1\\, 1:Pw003HsFYO4:0:18,OU=Cloud,O=Google LLC,L=Mountain View,ST=California,C=US",
        spki_sha256: hex32("f23057f4f97d1d90e4cae0ce91d5a0fc99069f0a1bc147021dca33b1e9c4d0d9"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#5
    Pin {
        vendor: "Infineon",
        subject: "CN=Infineon OPTIGA(TM) ECC Root CA 2,OU=OPTIGA(TM) Devices,O=Infineon Technologies AG,C=DE",
        spki_sha256: hex32("f21c8db44a3df3a43465230d30846f5fea08afa4428b982ff922065528c81f19"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Infineon/RootCA/OptigaEccRootCA3.crt
    Pin {
        vendor: "Infineon",
        subject: "CN=Infineon OPTIGA(TM) ECC Root CA 3,OU=OPTIGA(TM) Devices,O=Infineon Technologies AG,C=DE",
        spki_sha256: hex32("78cd04d396b5de0fb15ade38c8fd6d752dd692956a286f2dc9fc5d434256aacb"),
    },
    // keylime-tpm_cert_store/INF_ECC_010RT.pem
    Pin {
        vendor: "Infineon",
        subject: "CN=Infineon OPTIGA(TM) ECC Root CA,OU=OPTIGA(TM) Devices,O=Infineon Technologies AG,C=DE",
        spki_sha256: hex32("ce5183a19d6fe79a6c1b058cfa700379f67d587a8afd0f51621e82d9f00c5a28"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#7
    Pin {
        vendor: "Infineon",
        subject: "CN=Infineon OPTIGA(TM) RSA Root CA 2,OU=OPTIGA(TM) Devices,O=Infineon Technologies AG,C=DE",
        spki_sha256: hex32("d821e2a37a846f9f3a66a82c9346f18cc418c418fb6c55e933b25aee54afe8de"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Infineon/RootCA/OptigaRsaRootCA3.crt
    Pin {
        vendor: "Infineon",
        subject: "CN=Infineon OPTIGA(TM) RSA Root CA 3,OU=OPTIGA(TM) Devices,O=Infineon Technologies AG,C=DE",
        spki_sha256: hex32("06e11829b97cd04844146be42b4e467b0756722a15df9398a98bb5faf2b20aa0"),
    },
    // keylime-tpm_cert_store/INF_RSA_010RT.pem
    Pin {
        vendor: "Infineon",
        subject: "CN=Infineon OPTIGA(TM) RSA Root CA,OU=OPTIGA(TM) Devices,O=Infineon Technologies AG,C=DE",
        spki_sha256: hex32("8a705088efa28a3845b35c7fcbf9c0f4bf46c77da18a6f1a173eb9074610cbd0"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Infineon/RootCA/IFX_TPM_RootCert_008.crt
    Pin {
        vendor: "Infineon",
        subject: "CN=Infineon TPM CA 008,OU=Infineon SMS,O=Infineon Technologies AG,L=Dresden,ST=Saxony,C=DE",
        spki_sha256: hex32("c6f75a334aa92e8ed496d746fb021215a6e58067706738ac0324fd34ae75cfac"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Infineon/RootCA/IFX-RootCA.cer
    Pin {
        vendor: "Infineon (VeriSign)",
        subject: "CN=VeriSign Trusted Platform Module Root CA,OU=VeriSign Trusted Computing Certification Authority,O=VeriSign\\, Inc.,C=US",
        spki_sha256: hex32("e8499c053a947d38de5ae7d9c251a934e7d455edb43a4a6dfffd1996070bc89b"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#8
    Pin {
        vendor: "Intel",
        subject: "CN=www.intel.com,OU=OnDie CA Root Cert Signing,O=Intel Corporation,L=Santa Clara,ST=CA,C=US",
        spki_sha256: hex32("84b25305bf5f90c399d7f520ad81f451e09b0025d0292143e1388970f9651484"),
    },
    // keylime-tpm_cert_store/INTEL_RT.pem
    Pin {
        vendor: "Intel",
        subject: "CN=www.intel.com,OU=TPM EK root cert signing,O=Intel Corporation,L=Santa Clara,ST=CA,C=US",
        spki_sha256: hex32("baf3caf0db083d8155424bb24d6fbbd8ba7487fc5b3ca45d3eb6b2b2e4656ade"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#9
    Pin {
        vendor: "Microsoft",
        subject: "CN=Microsoft Pluton Root CA 2021,O=Microsoft Corporation,C=US",
        spki_sha256: hex32("664778b23fd09c0c61407fb4c2253f9a8978e64be8c4f9a89a92b4acc37d8a70"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#10
    Pin {
        vendor: "Microsoft",
        subject: "CN=Microsoft TPM Root Certificate Authority 2014,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US",
        spki_sha256: hex32("5eadfa0187a24edb747b98523f89cf92d33eeb20ec81b9d0a31e170b73c2dbb2"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/NationZ/RootCA/NSTPMEccRootCA001.crt
    Pin {
        vendor: "Nations Technologies",
        subject: "CN=Nations TPM ECC ROOT CA 001,OU=Nations,O=Nations Technologies Inc.,C=CN",
        spki_sha256: hex32("5fcaf283d8f42227ba9a1f4ff21221f77d8daaeb691776e3ead5950957236279"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/NationZ/RootCA/NSTPMRsaRootCA001.crt
    Pin {
        vendor: "Nations Technologies",
        subject: "CN=Nations TPM RSA ROOT CA 001,OU=Nations,O=Nations Technologies Inc.,C=CN",
        spki_sha256: hex32("6c150dfeae55032e46dd592259dea357cd7da8e511e9e2465069cfee2fe0fb1e"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/NationZ/RootCA/EkRootCA.crt
    Pin {
        vendor: "Nations Technologies",
        subject: "CN=Nationz TPM Root CA,OU=Nationz TPM Device,O=Nationz Technologies Inc,C=CN",
        spki_sha256: hex32("07e4e5a1d8eab8f9cf05c54beee7897b3bf95f86f386407e3ba205aa620012de"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#11
    Pin {
        vendor: "Nations Technologies (NSING)",
        subject: "CN=NSING TPM ECC ROOT CA 001,OU=TPM Devices,O=NSING Technologies Pte. Ltd.,C=SG",
        spki_sha256: hex32("00846603beb1cd5a41f71a4cf98b0bd77f974c879c94f60809541de7287dea84"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#12
    Pin {
        vendor: "Nations Technologies (NSING)",
        subject: "CN=NSING TPM RSA ROOT CA 001,OU=TPM Devices,O=NSING Technologies Pte. Ltd.,C=SG",
        spki_sha256: hex32("b5eadb92b6aaf54816c45c6bf57a92ac945bf8285a1c7451008c6207269fad1d"),
    },
    // keylime-tpm_cert_store/NTC1.pem
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=NTC TPM EK Root CA 01+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("e5011fae73883ff1e33954c975402a28dfdf87117e6e06cce3265519135420bd"),
    },
    // keylime-tpm_cert_store/NTC2.pem
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=NTC TPM EK Root CA 02+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("30c2e5fb9fe11bb2d2d8f59d8bdbe2ef7a5e86e2a24d5f44556404b528957921"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Nuvoton/RootCA/NTC TPM EK Root CA ARSUF 01.cer
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=NTC TPM EK Root CA ARSUF 01+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("a202990ccdbc2076007ecffc30d4fd30f691d22b4cdc8254690ae0acf8acaef4"),
    },
    // keylime-tpm_cert_store/NUVO_0100.pem
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 0100+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("2b40169e346867de502a647990f4d771980765f9cbef5c823380f3aa9626da53"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Nuvoton/RootCA/Nuvoton TPM Root CA 1013.cer
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 1013+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("5690aff798bb2bcadafda36bb94cb4e66c2f88ca9e019ad8d8cdc365d5b622d4"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Nuvoton/RootCA/Nuvoton TPM Root CA 1014.cer
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 1014+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("0d71a55353182c58daf9b4fdbaee0ea668ab483d1b6d09cc213ec1f25db1c5b2"),
    },
    // keylime-tpm_cert_store/NUVO_1110.pem
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 1110+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("b7f4414b44f1787f046aec866693cda643239b3d0f6998d0ad4adb841e4bd0db"),
    },
    // keylime-tpm_cert_store/NUVO_1111.pem
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 1111+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("c871b0ba1182676eeed4c2469d3d5fa3cfa09daca77ea823a4b454cf00dee11e"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Nuvoton/RootCA/Nuvoton TPM Root CA 2010.cer
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 2010+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("019f3ca91075a62732e395860cc52d2929549e86fcb95487d74809a829b160f1"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Nuvoton/RootCA/Nuvoton TPM Root CA 2011.cer
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 2011+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("9ce92f8d2aa0f87adc1621203351a24eb98f84b7e27cd27a29c794b9b1624ea1"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/Nuvoton/RootCA/Nuvoton TPM Root CA 2012.cer
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 2012+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("064e1a4b66f054e5f49da0a05074004704384272f129daf3501b6c8ef85e9947"),
    },
    // keylime-tpm_cert_store/NUVO_2110.pem
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 2110+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("b54c81a52159aaf524c88dcf5a7e7a6f5f9ec2f4e69aee0bb3897f0c65e4faea"),
    },
    // keylime-tpm_cert_store/NUVO_2111.pem
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 2111+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("95b8ab2c350f58064c30a217f07e0a3353915edee572c5fb2ebcf8fa3f87a813"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#17
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW+CN=Nuvoton TPM Root CA 2112+O=Nuvoton Technology Corporation",
        spki_sha256: hex32("016b91ecb9f473ab57499ff308c3f948a40287d5d951e5f6651482ad7d381924"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#13
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW,O=Nuvoton Technology Corporation,CN=NPCTxxx ECC521 RootCA",
        spki_sha256: hex32("e73d53e508a4558df188cd77d18f3efa5fb18b8b48c1ee3b27679e08f431029c"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#18
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW,O=Nuvoton Technology Corporation,CN=NuvotonTPMRootCA1210",
        spki_sha256: hex32("f6564f73c8ad3bd48fe5571d06d7e2625b1736e716445460e78a5ac6b3b69768"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#19
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW,O=Nuvoton Technology Corporation,CN=NuvotonTPMRootCA2210",
        spki_sha256: hex32("d325df18987aeda5c6c072c178babc54c3e1e24e563c691fe881099dddcb31e8"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#20
    Pin {
        vendor: "Nuvoton",
        subject: "C=TW,O=Nuvoton Technology Corporation,CN=NuvotonTPMRootCA2211",
        spki_sha256: hex32("1f3ddd0a51b57d54833ae705f8e47f28817a1551d12aee3c6beeed5f1ea2a59d"),
    },
    // microsoft-TrustedTpm-cab-2024-11-21/QC/RootCA/qwes_prod_ek_provisioning_root.cer
    Pin {
        vendor: "Qualcomm",
        subject: "CN=Qualcomm WES Secure Provisioning Root v2,OU=Qualcomm Cryptographic Operations,O=Qualcomm Technologies\\, Inc.",
        spki_sha256: hex32("f871a132a5f46e734f96d35c362cf95764f6a7355d10dc957b6ae08000e21abe"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#25
    Pin {
        vendor: "STMicro",
        subject: "CN=STSAFE ECC Root CA 02,O=STMicroelectronics NV,C=CH",
        spki_sha256: hex32("7fbef05051f792251d32f5b265821137d47cd3dc3d604ace70ecc12e8e579924"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#26
    Pin {
        vendor: "STMicro",
        subject: "CN=STSAFE RSA Root CA 02,O=STMicroelectronics NV,C=CH",
        spki_sha256: hex32("566cb2589d45c1478036e667da1793daacdadbba57efd6aa29b78d0e6695fd9f"),
    },
    // loicsikidi-tpm-ca-certificates/MIRROR.tpm-ca-certificates.pem#21
    Pin {
        vendor: "STMicro (GlobalSign)",
        subject: "CN=GlobalSign Trusted Platform Module ECC Root CA,O=GlobalSign,OU=GlobalSign Trusted Computing Certificate Authority",
        spki_sha256: hex32("43679317522d3638ea18936a57c65b33086ba51c77536fe6e1b65492193314cb"),
    },
    // keylime-tpm_cert_store/GS_TPM_RT.pem
    Pin {
        vendor: "STMicro (GlobalSign)",
        subject: "CN=GlobalSign Trusted Platform Module Root CA,O=GlobalSign,OU=GlobalSign Trusted Computing Certificate Authority",
        spki_sha256: hex32("0035d2297fe237a636800382cc2c9e205c6930f84b507ceec3608545d273960f"),
    },
];
