// Bouncy Castle (Debian's libbcprov-java, libbcpkix-java, libbcpg-java) as a
// subscriber's client, driven by the Cloister test suite
// (runners/peer_bouncycastle_test.go compiles it with javac). Arguments are
// files; results go to standard output, reports to standard error; a failed
// check exits non-zero with the reason. "serve" runs one command a line from
// standard input instead (see serve).
//
// S/MIME (DER CMS in and out; PEM certificates and PKCS #8 keys):
//   smime-sign detached|opaque CERT KEY IN OUT [pss]  SignedData over IN (RSA, RSASSA-PSS, ECDSA, Ed25519)
//   smime-encrypt cbc|cbc-oaep|gcm CERT IN OUT         EnvelopedData AES-256-CBC or AuthEnvelopedData
//                                                      AES-256-GCM to CERT (RSA, EC or X25519;
//                                                      cbc-oaep: RSA-OAEP SHA-256 key transport)
//   smime-decrypt CERT KEY IN                          decrypts; reports the content type and cipher
//   smime-verify CA IN [CONTENT]                       verifies every signer (detached when CONTENT is
//                                                      given) and its certificate against CA; prints the
//                                                      encapsulated content, reports "signer: EMAIL"
// OpenPGP (armored; v4 keys):
//   pgp-gen EMAIL PREFIX [rsa|25519]  writes PREFIX.key (secret, unprotected) and PREFIX.asc:
//                                  RSA-3072, or Ed25519 with a Curve25519 ECDH subkey
//   pgp-sign KEY IN                detached signature over IN
//   pgp-encrypt CERT KEY|- IN      AES-256 with MDC, ZLIB, signed by KEY unless "-"
//   pgp-decrypt KEY SIGNER IN      decrypts; fails unless SIGNER's one-pass signature verifies
//   pgp-verify CERT SIG IN         verifies the detached signature SIG over IN
//   pgp-inline-sign KEY IN         inline-signed message (one-pass signature, literal data, signature)
//   pgp-verify-inline CERT IN      verifies a clear-signed or inline-signed message by CERT,
//                                  prints its text
import java.io.*;
import java.math.BigInteger;
import java.nio.file.*;
import java.security.*;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.MGF1ParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import java.util.*;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.cms.AuthEnvelopedData;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.bcpg.*;
import org.bouncycastle.bcpg.sig.Features;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.*;
import org.bouncycastle.cms.jcajce.*;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openpgp.*;
import org.bouncycastle.openpgp.jcajce.JcaPGPObjectFactory;
import org.bouncycastle.openpgp.operator.PGPDigestCalculator;
import org.bouncycastle.openpgp.operator.jcajce.*;
import org.bouncycastle.operator.OutputAEADEncryptor;
import org.bouncycastle.operator.jcajce.JcaAlgorithmParametersConverter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

public class Peer {
    static final String BC = "BC";

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        if (args.length == 1 && args[0].equals("serve")) {
            serve();
            return;
        }
        try {
            command(args);
        } catch (Exception e) {
            System.err.println("bouncycastle " + args[0] + ": " + e);
            System.exit(1);
        }
    }

    // serve runs commands read from standard input, one a line with its
    // arguments separated by tabs, so that one Java process serves a whole
    // test. Each answer is a line "STATUS OUTLEN ERRLEN" (STATUS 0 or 1)
    // followed by the command's output and report bytes.
    static void serve() throws Exception {
        PrintStream realOut = System.out;
        PrintStream realErr = System.err;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String[] args = line.split("\t", -1);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int status = 0;
            try {
                command(args);
            } catch (Exception e) {
                System.err.println("bouncycastle " + args[0] + ": " + e);
                status = 1;
            }
            System.out.flush();
            System.err.flush();
            System.setOut(realOut);
            System.setErr(realErr);
            realOut.write((status + " " + out.size() + " " + err.size() + "\n").getBytes("UTF-8"));
            out.writeTo(realOut);
            err.writeTo(realOut);
            realOut.flush();
        }
    }

    static void command(String[] args) throws Exception {
        switch (args[0]) {
            case "smime-sign" -> smimeSign(args[1], args[2], args[3], args[4], args[5], args.length > 6 && args[6].equals("pss"));
            case "smime-encrypt" -> smimeEncrypt(args[1], args[2], args[3], args[4]);
            case "smime-decrypt" -> smimeDecrypt(args[1], args[2], args[3]);
            case "smime-verify" -> smimeVerify(args[1], args[2], args.length > 3 ? args[3] : null);
            case "pgp-gen" -> pgpGen(args[1], args[2], args.length > 3 ? args[3] : "rsa");
            case "pgp-sign" -> pgpSign(args[1], args[2]);
            case "pgp-encrypt" -> pgpEncrypt(args[1], args[2], args[3]);
            case "pgp-decrypt" -> pgpDecrypt(args[1], args[2], args[3]);
            case "pgp-verify" -> pgpVerify(args[1], args[2], args[3]);
            case "pgp-verify-inline" -> pgpVerifyInline(args[1], args[2]);
            case "pgp-inline-sign" -> pgpInlineSign(args[1], args[2]);
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    static byte[] read(String path) throws IOException {
        return Files.readAllBytes(Path.of(path));
    }

    // ---- S/MIME ----

    static X509Certificate cert(String path) throws Exception {
        try (PEMParser p = new PEMParser(new FileReader(path))) {
            return new JcaX509CertificateConverter().setProvider(BC).getCertificate((X509CertificateHolder) p.readObject());
        }
    }

    static PrivateKey key(String path) throws Exception {
        try (PEMParser p = new PEMParser(new FileReader(path))) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter().setProvider(BC);
            if (o instanceof PEMKeyPair kp) {
                return conv.getKeyPair(kp).getPrivate();
            }
            return conv.getPrivateKey((PrivateKeyInfo) o);
        }
    }

    // x25519KDF is a provider that maps dhSinglePass-stdDH-sha256kdf-scheme
    // (1.3.132.1.11.1) to Bouncy Castle's X25519withSHA256KDF agreement, with
    // Bouncy Castle's X25519 key factory and AES key wrap: Bouncy Castle 1.72's
    // CMS layer maps that OID only to ECDH on NIST curves ("can't identify EC
    // private key"), although RFC 8418 uses it for X25519 too.
    static Provider x25519KDF() {
        Provider p = new Provider("CloisterTestX25519", "1.0", "RFC 8418 key agreement from Bouncy Castle's primitives") {};
        p.put("KeyAgreement.1.3.132.1.11.1", "org.bouncycastle.jcajce.provider.asymmetric.edec.KeyAgreementSpi$X25519withSHA256KDF");
        p.put("KeyFactory.1.3.101.110", "org.bouncycastle.jcajce.provider.asymmetric.edec.KeyFactorySpi$X25519");
        p.put("KeyFactory.X25519", "org.bouncycastle.jcajce.provider.asymmetric.edec.KeyFactorySpi$X25519");
        for (String wrap : new String[] {"2.16.840.1.101.3.4.1.5", "2.16.840.1.101.3.4.1.25", "2.16.840.1.101.3.4.1.45", "AESWrap"}) {
            p.put("Cipher." + wrap, "org.bouncycastle.jcajce.provider.symmetric.AES$Wrap");
        }
        return p;
    }

    static void smimeSign(String form, String certPath, String keyPath, String in, String out, boolean pss) throws Exception {
        X509Certificate c = cert(certPath);
        PrivateKey k = key(keyPath);
        String alg = switch (k.getAlgorithm()) {
            case "RSA" -> pss ? "SHA256withRSAandMGF1" : "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException("cannot sign with a " + k.getAlgorithm() + " key");
        };
        CMSSignedDataGenerator g = new CMSSignedDataGenerator();
        g.addSignerInfoGenerator(new JcaSimpleSignerInfoGeneratorBuilder().setProvider(BC).build(alg, k, c));
        g.addCertificates(new JcaCertStore(List.of(c)));
        CMSSignedData sd = g.generate(new CMSProcessableByteArray(read(in)), form.equals("opaque"));
        Files.write(Path.of(out), sd.toASN1Structure().getEncoded(ASN1Encoding.DER));
    }

    static void smimeEncrypt(String cipher, String certPath, String in, String out) throws Exception {
        X509Certificate c = cert(certPath);
        RecipientInfoGenerator rig = recipient(c);
        if (cipher.equals("cbc-oaep")) {
            // RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017, RFC 4055).
            OAEPParameterSpec oaep = new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT);
            rig = new JceKeyTransRecipientInfoGenerator(c,
                    new JcaAlgorithmParametersConverter().getAlgorithmIdentifier(PKCSObjectIdentifiers.id_RSAES_OAEP, oaep)).setProvider(BC);
        }
        CMSProcessableByteArray data = new CMSProcessableByteArray(read(in));
        ContentInfo ci;
        if (cipher.equals("gcm")) {
            CMSAuthEnvelopedDataGenerator g = new CMSAuthEnvelopedDataGenerator();
            g.addRecipientInfoGenerator(rig);
            OutputAEADEncryptor enc = (OutputAEADEncryptor) new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_GCM).setProvider(BC).build();
            ci = g.generate(data, enc).toASN1Structure();
        } else {
            CMSEnvelopedDataGenerator g = new CMSEnvelopedDataGenerator();
            g.addRecipientInfoGenerator(rig);
            ci = g.generate(data, new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_CBC).setProvider(BC).build()).toASN1Structure();
        }
        Files.write(Path.of(out), ci.getEncoded(ASN1Encoding.DER));
    }

    // recipient is a key transport recipient for an RSA certificate and an
    // ephemeral-static ECDH one (X9.63 KDF with SHA-256, AES-256 key wrap)
    // for an EC or X25519 certificate.
    static RecipientInfoGenerator recipient(X509Certificate c) throws Exception {
        PublicKey pub = c.getPublicKey();
        KeyPairGenerator kpg;
        switch (pub.getAlgorithm()) {
            case "RSA":
                return new JceKeyTransRecipientInfoGenerator(c).setProvider(BC);
            case "EC":
            case "ECDSA":
            case "ECDH":
                kpg = KeyPairGenerator.getInstance("EC", BC);
                kpg.initialize(((ECPublicKey) pub).getParams());
                break;
            case "X25519":
            case "XDH":
                kpg = KeyPairGenerator.getInstance("X25519", BC);
                break;
            default:
                throw new IllegalArgumentException("cannot encrypt to a " + pub.getAlgorithm() + " key");
        }
        KeyPair eph = kpg.generateKeyPair();
        JceKeyAgreeRecipientInfoGenerator g = new JceKeyAgreeRecipientInfoGenerator(CMSAlgorithm.ECDH_SHA256KDF,
                eph.getPrivate(), eph.getPublic(), CMSAlgorithm.AES256_WRAP);
        g.addRecipient(c);
        g.setProvider(BC);
        return g;
    }

    static void smimeDecrypt(String certPath, String keyPath, String in) throws Exception {
        PrivateKey k = key(keyPath);
        byte[] der = read(in);
        ContentInfo ci = ContentInfo.getInstance(der);
        RecipientInformationStore rs;
        String kind;
        String alg;
        if (ci.getContentType().equals(CMSObjectIdentifiers.authEnvelopedData)) {
            CMSAuthEnvelopedData a = new CMSAuthEnvelopedData(der);
            rs = a.getRecipientInfos();
            kind = "auth-enveloped-data";
            alg = AuthEnvelopedData.getInstance(ci.getContent()).getAuthEncryptedContentInfo()
                    .getContentEncryptionAlgorithm().getAlgorithm().getId();
        } else {
            CMSEnvelopedData e = new CMSEnvelopedData(der);
            rs = e.getRecipientInfos();
            kind = "enveloped-data";
            alg = e.getEncryptionAlgOID();
        }
        Exception last = null;
        for (RecipientInformation ri : rs.getRecipients()) {
            Recipient r;
            if (ri instanceof KeyTransRecipientInformation) {
                r = new JceKeyTransEnvelopedRecipient(k).setProvider(BC);
            } else if (k.getAlgorithm().equals("X25519") || k.getAlgorithm().equals("XDH")) {
                // RFC 8418 with BC's own X25519 agreement and X9.63 KDF, which
                // its CMS layer does not reach for dhSinglePass-stdDH-sha256kdf.
                r = new JceKeyAgreeEnvelopedRecipient(k).setProvider(x25519KDF()).setContentProvider(BC);
            } else {
                r = new JceKeyAgreeEnvelopedRecipient(k).setProvider(BC);
            }
            try {
                byte[] content = ri.getContent(r);
                System.err.println("cms: " + kind + " " + alg + " " + ri.getKeyEncryptionAlgOID());
                System.out.write(content);
                System.out.flush();
                return;
            } catch (CMSException e) {
                last = e;
            }
        }
        throw new Exception("no recipient info opens with this key: " + last + (last != null && last.getCause() != null ? " (" + last.getCause() + ")" : ""), last);
    }

    static void smimeVerify(String caPath, String in, String contentPath) throws Exception {
        X509Certificate ca = cert(caPath);
        byte[] der = read(in);
        CMSSignedData sd = contentPath != null
                ? new CMSSignedData(new CMSProcessableByteArray(read(contentPath)), der)
                : new CMSSignedData(der);
        var certs = sd.getCertificates();
        var signers = sd.getSignerInfos().getSigners();
        if (signers.isEmpty()) {
            throw new Exception("no signer");
        }
        for (SignerInformation si : signers) {
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> match = certs.getMatches(si.getSID());
            if (match.isEmpty()) {
                throw new Exception("the signer's certificate is not in the message");
            }
            X509CertificateHolder h = match.iterator().next();
            if (!h.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BC).build(ca))) {
                throw new Exception("the signer's certificate is not issued by the CA");
            }
            if (!si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(BC).build(h))) {
                throw new Exception("bad signature");
            }
            X509Certificate c = new JcaX509CertificateConverter().setProvider(BC).getCertificate(h);
            StringBuilder emails = new StringBuilder();
            if (c.getSubjectAlternativeNames() != null) {
                for (List<?> n : c.getSubjectAlternativeNames()) {
                    if ((Integer) n.get(0) == 1) {
                        emails.append(n.get(1));
                    }
                }
            }
            System.err.println("signer: " + emails + " " + si.getEncryptionAlgOID());
        }
        if (contentPath == null) {
            System.out.write((byte[]) sd.getSignedContent().getContent());
            System.out.flush();
        }
    }

    // ---- OpenPGP ----

    static void pgpGen(String email, String prefix, String algo) throws Exception {
        Date now = new Date(System.currentTimeMillis() - 60_000);
        PGPKeyPair sign;
        PGPKeyPair enc;
        if (algo.equals("25519")) {
            // EdDSA (Ed25519) primary, ECDH Curve25519 subkey, as GnuPG's
            // default keys.
            sign = new JcaPGPKeyPair(PublicKeyAlgorithmTags.EDDSA, KeyPairGenerator.getInstance("Ed25519", BC).generateKeyPair(), now);
            enc = new JcaPGPKeyPair(PublicKeyAlgorithmTags.ECDH, KeyPairGenerator.getInstance("X25519", BC).generateKeyPair(), now);
        } else {
            KeyPairGenerator kpg = KeyPairGenerator.getInstance("RSA");
            kpg.initialize(3072);
            sign = new JcaPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, kpg.generateKeyPair(), now);
            enc = new JcaPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, kpg.generateKeyPair(), now);
        }
        PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
        hashed.setKeyFlags(false, KeyFlags.SIGN_DATA | KeyFlags.CERTIFY_OTHER);
        hashed.setPreferredSymmetricAlgorithms(false, new int[] {SymmetricKeyAlgorithmTags.AES_256, SymmetricKeyAlgorithmTags.AES_128});
        hashed.setPreferredHashAlgorithms(false, new int[] {HashAlgorithmTags.SHA512, HashAlgorithmTags.SHA256});
        hashed.setPreferredCompressionAlgorithms(false, new int[] {CompressionAlgorithmTags.ZLIB, CompressionAlgorithmTags.UNCOMPRESSED});
        hashed.setFeature(false, Features.FEATURE_MODIFICATION_DETECTION);
        PGPSignatureSubpacketGenerator encHashed = new PGPSignatureSubpacketGenerator();
        encHashed.setKeyFlags(false, KeyFlags.ENCRYPT_COMMS | KeyFlags.ENCRYPT_STORAGE);
        PGPDigestCalculator sha1 = new JcaPGPDigestCalculatorProviderBuilder().build().get(HashAlgorithmTags.SHA1);
        PGPKeyRingGenerator gen = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, sign, "<" + email + ">", sha1,
                hashed.generate(), null, new JcaPGPContentSignerBuilder(sign.getPublicKey().getAlgorithm(), HashAlgorithmTags.SHA256).setProvider(BC), null);
        gen.addSubKey(enc, encHashed.generate(), null);
        try (ArmoredOutputStream a = new ArmoredOutputStream(new FileOutputStream(prefix + ".key"))) {
            gen.generateSecretKeyRing().encode(a);
        }
        try (ArmoredOutputStream a = new ArmoredOutputStream(new FileOutputStream(prefix + ".asc"))) {
            gen.generatePublicKeyRing().encode(a);
        }
    }

    static PGPSecretKeyRing secretRing(String path) throws Exception {
        try (InputStream in = PGPUtil.getDecoderStream(new FileInputStream(path))) {
            return new PGPSecretKeyRing(in, new JcaKeyFingerprintCalculator());
        }
    }

    static PGPPublicKeyRing publicRing(String path) throws Exception {
        try (InputStream in = PGPUtil.getDecoderStream(new FileInputStream(path))) {
            return new PGPPublicKeyRing(in, new JcaKeyFingerprintCalculator());
        }
    }

    static PGPPrivateKey unlock(PGPSecretKey sk) throws PGPException {
        return sk.extractPrivateKey(new JcePBESecretKeyDecryptorBuilder().setProvider(BC).build(new char[0]));
    }

    static PGPSignatureGenerator signer(PGPSecretKeyRing ring) throws PGPException {
        PGPSecretKey sk = ring.getSecretKey();
        PGPSignatureGenerator g = new PGPSignatureGenerator(
                new JcaPGPContentSignerBuilder(sk.getPublicKey().getAlgorithm(), HashAlgorithmTags.SHA256).setProvider(BC));
        g.init(PGPSignature.BINARY_DOCUMENT, unlock(sk));
        PGPSignatureSubpacketGenerator sp = new PGPSignatureSubpacketGenerator();
        sp.setSignatureCreationTime(false, new Date());
        sp.setIssuerFingerprint(false, sk);
        g.setHashedSubpackets(sp.generate());
        return g;
    }

    static void pgpSign(String keyPath, String in) throws Exception {
        PGPSignatureGenerator g = signer(secretRing(keyPath));
        g.update(read(in));
        try (ArmoredOutputStream a = new ArmoredOutputStream(System.out)) {
            g.generate().encode(a);
        }
    }

    static void pgpEncrypt(String certPath, String keyPath, String in) throws Exception {
        PGPPublicKey encKey = null;
        for (PGPPublicKey k : publicRing(certPath)) {
            if (k.isEncryptionKey() && !k.isMasterKey()) {
                encKey = k;
            }
        }
        if (encKey == null) {
            throw new Exception("no encryption subkey in " + certPath);
        }
        byte[] data = read(in);
        PGPSignatureGenerator sg = keyPath.equals("-") ? null : signer(secretRing(keyPath));
        PGPEncryptedDataGenerator edg = new PGPEncryptedDataGenerator(new JcePGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256)
                .setWithIntegrityPacket(true).setSecureRandom(new SecureRandom()).setProvider(BC));
        edg.addMethod(new JcePublicKeyKeyEncryptionMethodGenerator(encKey).setProvider(BC));
        ArmoredOutputStream a = new ArmoredOutputStream(System.out);
        OutputStream encOut = edg.open(a, new byte[1 << 16]);
        PGPCompressedDataGenerator cdg = new PGPCompressedDataGenerator(CompressionAlgorithmTags.ZLIB);
        OutputStream cOut = cdg.open(encOut);
        if (sg != null) {
            sg.generateOnePassVersion(false).encode(cOut);
        }
        PGPLiteralDataGenerator ldg = new PGPLiteralDataGenerator();
        OutputStream lOut = ldg.open(cOut, PGPLiteralData.BINARY, "", data.length, new Date());
        lOut.write(data);
        ldg.close();
        if (sg != null) {
            sg.update(data);
            sg.generate().encode(cOut);
        }
        cdg.close();
        edg.close();
        a.close();
    }

    static void pgpInlineSign(String keyPath, String in) throws Exception {
        byte[] data = read(in);
        PGPSignatureGenerator sg = signer(secretRing(keyPath));
        ArmoredOutputStream a = new ArmoredOutputStream(System.out);
        sg.generateOnePassVersion(false).encode(a);
        PGPLiteralDataGenerator ldg = new PGPLiteralDataGenerator();
        OutputStream lOut = ldg.open(a, PGPLiteralData.BINARY, "", data.length, new Date());
        lOut.write(data);
        ldg.close();
        sg.update(data);
        sg.generate().encode(a);
        a.close();
    }

    static void pgpDecrypt(String keyPath, String signerPath, String in) throws Exception {
        PGPSecretKeyRing ring = secretRing(keyPath);
        PGPPublicKeyRing signerRing = publicRing(signerPath);
        JcaPGPObjectFactory f = new JcaPGPObjectFactory(PGPUtil.getDecoderStream(new FileInputStream(in)));
        Object o = f.nextObject();
        if (o instanceof PGPMarker) {
            o = f.nextObject();
        }
        PGPEncryptedDataList edl = (PGPEncryptedDataList) o;
        PGPPublicKeyEncryptedData pked = null;
        PGPSecretKey sk = null;
        for (PGPEncryptedData ed : edl) {
            if (ed instanceof PGPPublicKeyEncryptedData p && ring.getSecretKey(p.getKeyID()) != null) {
                pked = p;
                sk = ring.getSecretKey(p.getKeyID());
            }
        }
        if (pked == null) {
            throw new Exception("not encrypted to this key");
        }
        InputStream clear = pked.getDataStream(new JcePublicKeyDataDecryptorFactoryBuilder().setProvider(BC).build(unlock(sk)));
        JcaPGPObjectFactory pf = new JcaPGPObjectFactory(clear);
        PGPOnePassSignature ops = null;
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        boolean verified = false;
        for (Object p = pf.nextObject(); p != null; p = pf.nextObject()) {
            if (p instanceof PGPCompressedData cd) {
                pf = new JcaPGPObjectFactory(cd.getDataStream());
            } else if (p instanceof PGPOnePassSignatureList l) {
                ops = l.get(0);
                PGPPublicKey k = signerRing.getPublicKey(ops.getKeyID());
                if (k == null) {
                    throw new Exception("signed by another key than " + signerPath);
                }
                ops.init(new JcaPGPContentVerifierBuilderProvider().setProvider(BC), k);
            } else if (p instanceof PGPLiteralData ld) {
                ld.getInputStream().transferTo(plain);
                if (ops != null) {
                    ops.update(plain.toByteArray());
                }
            } else if (p instanceof PGPSignatureList l) {
                if (ops == null || !ops.verify(l.get(0))) {
                    throw new Exception("the signature does not verify");
                }
                verified = true;
            }
        }
        if (!pked.isIntegrityProtected() || !pked.verify()) {
            throw new Exception("integrity check failed");
        }
        if (!verified) {
            throw new Exception("not signed");
        }
        System.err.println("pgp: signature by " + Long.toHexString(ops.getKeyID()) + " verified");
        System.out.write(plain.toByteArray());
        System.out.flush();
    }

    static void pgpVerify(String certPath, String sigPath, String in) throws Exception {
        JcaPGPObjectFactory f = new JcaPGPObjectFactory(PGPUtil.getDecoderStream(new FileInputStream(sigPath)));
        PGPSignature sig = ((PGPSignatureList) f.nextObject()).get(0);
        PGPPublicKey k = publicRing(certPath).getPublicKey(sig.getKeyID());
        if (k == null) {
            throw new Exception("signed by another key than " + certPath);
        }
        sig.init(new JcaPGPContentVerifierBuilderProvider().setProvider(BC), k);
        sig.update(read(in));
        if (!sig.verify()) {
            throw new Exception("the signature does not verify");
        }
    }

    static void pgpVerifyInline(String certPath, String in) throws Exception {
        PGPPublicKeyRing ring = publicRing(certPath);
        ArmoredInputStream aIn = new ArmoredInputStream(new FileInputStream(in));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        if (!aIn.isClearText()) {
            // One-pass signature, literal data, signature.
            JcaPGPObjectFactory f = new JcaPGPObjectFactory(aIn);
            PGPOnePassSignature ops = null;
            for (Object o = f.nextObject(); o != null; o = f.nextObject()) {
                if (o instanceof PGPCompressedData cd) {
                    f = new JcaPGPObjectFactory(cd.getDataStream());
                } else if (o instanceof PGPOnePassSignatureList l) {
                    ops = l.get(0);
                    PGPPublicKey k = ring.getPublicKey(ops.getKeyID());
                    if (k == null) {
                        throw new Exception("signed by another key than " + certPath);
                    }
                    ops.init(new JcaPGPContentVerifierBuilderProvider().setProvider(BC), k);
                } else if (o instanceof PGPLiteralData ld) {
                    ld.getInputStream().transferTo(text);
                    if (ops != null) {
                        ops.update(text.toByteArray());
                    }
                } else if (o instanceof PGPSignatureList l) {
                    if (ops == null || !ops.verify(l.get(0))) {
                        throw new Exception("the signature does not verify");
                    }
                    System.out.write(text.toByteArray());
                    System.out.flush();
                    return;
                }
            }
            throw new Exception("not signed");
        }
        // Clear-signed (RFC 9580 7): the text as ArmoredInputStream gives it
        // (dash-escapes undone), then the signature.
        int ch;
        while ((ch = aIn.read()) >= 0 && aIn.isClearText()) {
            text.write(ch);
        }
        byte[] clear = text.toByteArray();
        PGPSignature sig = ((PGPSignatureList) new JcaPGPObjectFactory(aIn).nextObject()).get(0);
        PGPPublicKey k = ring.getPublicKey(sig.getKeyID());
        if (k == null) {
            throw new Exception("signed by another key than " + certPath);
        }
        sig.init(new JcaPGPContentVerifierBuilderProvider().setProvider(BC), k);
        // Hashed: each line without trailing whitespace, lines joined by
        // CRLF, without the line ending before the signature.
        String[] lines = new String(clear, "UTF-8").split("\r?\n", -1);
        int n = lines.length;
        if (n > 0 && lines[n - 1].isEmpty()) {
            n--;
        }
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sig.update(new byte[] {'\r', '\n'});
            }
            sig.update(lines[i].replaceAll("[ \t]+$", "").getBytes("UTF-8"));
        }
        if (!sig.verify()) {
            throw new Exception("the clear-signed text does not verify");
        }
        System.out.write(clear);
        System.out.flush();
    }
}
