// Tests for src/kubelet/pull-records.ts (KEP-2535, kubelet.md §6), ported from kubernetes
// pkg/kubelet/images/pullmanager/image_pull_policies_test.go (TestNeverVerifyPreloadedPullPolicy,
// TestNewNeverVerifyAllowListedPullPolicy) and image_pull_manager_test.go
// (Test_pulledRecordMergeNewCreds, TestFileBasedImagePullManager_MustAttemptImagePull,
// TestFileBasedImagePullManager_RecordImagePulled), with upstream's testdata/pulled records.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  allowlistPatternError,
  compileAllowlist,
  decodePulledRecord,
  decodePullIntent,
  encodePulledRecord,
  encodePullIntent,
  formatRecordTime,
  goJSON,
  type ImagePullCredentials,
  type ImagePullCredentialsVerificationPolicy,
  type ImagePulledRecord,
  type ImagePullSecret,
  matchesAllowlist,
  mergePulledRecord,
  mustAttemptImagePull,
  type PullCredentialUsed,
  parseRecordTime,
  recordSuccessfulPull,
  requiresCredentialVerification,
  shouldPruneRecord,
  validateAllowlist,
  validateCredentialVerificationConfig,
} from "../../src/kubelet/index.ts";

const sha = (s: string) => `sha256-${createHash("sha256").update(s).digest("hex")}`;

// upstream pkg/kubelet/images/pullmanager/testdata/pulled/*, verbatim
const PULLED_FILES: Record<string, string> = {
  "sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064":
    '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"testimageref","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"testsecrethash"}]}}}',
  "sha256-f8778b6393eaf39315e767a58cbeacf2c4b270d94b4d6926ee993d9e49444991":
    '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"testemptycredmapping"}',
  "sha256-a2eace2182b24cdbbb730798e47b10709b9ef5e0f0c1624a3bc06c8ca987727a":
    '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"testimage-anonpull","credentialMapping":{"docker.io/testing/test":{"nodePodsAccessible":true}}}',
  "sha256-38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd":
    '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"test-brokenhash","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":""}]}}}',
};
// testdata/pulling/sha256-aef2af…: the intent for docker.io/testing/test:latest
const PULLING_FILES: Record<string, string> = {
  "sha256-aef2af226629a35d5f3ef0fdbb29fdbebf038d0acd8850590e8c48e1e283aa56":
    '{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1alpha1","image":"docker.io/testing/test:latest"}',
};

const NOW = Date.UTC(2026, 10, 28, 2, 0, 0, 500);
const NOW_TEXT = "2026-11-28T02:00:00Z";

describe("policies (image_pull_policies_test.go)", () => {
  it("TestNeverVerifyPreloadedPullPolicy", () => {
    assert.equal(
      requiresCredentialVerification("NeverVerifyPreloadedImages", "test-image:sometag", false),
      false,
    );
    assert.equal(
      requiresCredentialVerification("NeverVerifyPreloadedImages", "test-image:sometag", true),
      true,
    );
  });

  it("NeverVerify never, AlwaysVerify always", () => {
    for (const pulled of [false, true]) {
      assert.equal(requiresCredentialVerification("NeverVerify", "x", pulled), false);
      assert.equal(requiresCredentialVerification("AlwaysVerify", "x", pulled), true);
    }
  });

  it("unknown policy: upstream's message", () => {
    assert.throws(
      () =>
        requiresCredentialVerification(
          "Sometimes" as ImagePullCredentialsVerificationPolicy,
          "x",
          true,
        ),
      {
        code: "INPUT_INVALID",
        message: "unknown image pull credential verification policy: Sometimes",
      },
    );
  });

  const cases: {
    name: string;
    recordsExist?: boolean;
    allowlist: string[];
    absolutes?: number;
    wildcards?: number;
    want?: boolean;
    wantErr?: string;
  }[] = [
    {
      name: "there are no records about the image being pulled, not in allowlist",
      recordsExist: false,
      want: true,
      allowlist: ["test.io/test/image1", "test.io/test/image2", "test.io/test/image3"],
      absolutes: 3,
    },
    {
      name: "there are records about the image being pulled, not in allowlist",
      recordsExist: true,
      want: true,
      allowlist: [
        "test.io/test/image1",
        "test.io/test/image3",
        "test.io/test/image2",
        "test.io/test/image3",
      ],
      absolutes: 3,
    },
    {
      name: "there are no records about the image being pulled, appears in allowlist",
      recordsExist: false,
      want: false,
      allowlist: [
        "test.io/test/image1",
        "test.io/test/image2",
        "test.io/test/test-image",
        "test.io/test/image3",
      ],
      absolutes: 4,
    },
    {
      name: "there are records about the image being pulled, appears in allowlist",
      recordsExist: true,
      want: false,
      allowlist: [
        "test.io/test/image1",
        "test.io/test/image2",
        "test.io/test/test-image",
        "test.io/test/image3",
      ],
      absolutes: 4,
    },
    {
      name: "invalid allowlist pattern - wildcard in the middle",
      allowlist: ["image.repo/pokus*/imagename"],
      wantErr:
        "not a valid wildcard pattern, only patterns ending with '/*' are allowed: image.repo/pokus*/imagename",
    },
    {
      name: "invalid allowlist pattern - trailing non-segment wildcard middle",
      allowlist: ["image.repo/pokus*"],
      wantErr:
        "not a valid wildcard pattern, only patterns ending with '/*' are allowed: image.repo/pokus*",
    },
    {
      name: "invalid allowlist pattern - wildcard path segment in the middle",
      allowlist: ["image.repo/*/imagename"],
      wantErr:
        "not a valid wildcard pattern, only patterns ending with '/*' are allowed: image.repo/*/imagename",
    },
    {
      name: "invalid allowlist pattern - only wildcard segment",
      allowlist: ["/*"],
      wantErr: "at least registry hostname is required",
    },
    {
      name: "invalid allowlist pattern - ends with a '/'",
      allowlist: ["image.repo/"],
      wantErr: "failed to parse as an image name: invalid reference format",
    },
    {
      name: "invalid allowlist pattern - empty",
      allowlist: [""],
      wantErr: "the supplied pattern is too short: ",
    },
    {
      name: "invalid allowlist pattern - asterisk",
      allowlist: ["*"],
      wantErr: "not a valid wildcard pattern, only patterns ending with '/*' are allowed: *",
    },
    {
      name: "invalid allowlist pattern - image with a tag",
      allowlist: ["test.io/test/image1:tagged"],
      wantErr:
        "neither tag nor digest is accepted in an image reference: test.io/test/image1:tagged",
    },
    {
      name: "invalid allowlist pattern - image with a digest",
      allowlist: [
        "test.io/test/image1@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd",
      ],
      wantErr:
        "neither tag nor digest is accepted in an image reference: test.io/test/image1@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd",
    },
    {
      name: "invalid allowlist pattern - trailing whitespace",
      allowlist: ["test.io/test/image1 "],
      wantErr: "leading/trailing spaces are not allowed: test.io/test/image1 ",
    },
    {
      name: "there are no records about the image being pulled, not in allowlist - different repo wildcard",
      recordsExist: false,
      want: true,
      allowlist: ["test.io/test/image1", "test.io/test/image2", "different.repo/test/*"],
      absolutes: 2,
      wildcards: 1,
    },
    {
      name: "there are no records about the image being pulled, not in allowlist - matches org wildcard",
      recordsExist: false,
      want: false,
      allowlist: ["test.io/test/image1", "test.io/test/image2", "test.io/test/*"],
      absolutes: 2,
      wildcards: 1,
    },
    {
      name: "there are no records about the image being pulled, not in allowlist - matches repo wildcard",
      recordsExist: false,
      want: false,
      allowlist: ["test.io/test/image1", "test.io/test/image2", "test.io/*"],
      absolutes: 2,
      wildcards: 1,
    },
  ];
  for (const tc of cases) {
    it(`TestNewNeverVerifyAllowListedPullPolicy: ${tc.name}`, () => {
      if (tc.wantErr !== undefined) {
        assert.throws(() => compileAllowlist(tc.allowlist), {
          code: "INPUT_INVALID",
          message: tc.wantErr,
        });
        assert.equal(allowlistPatternError(tc.allowlist[0] as string), tc.wantErr);
        return;
      }
      const compiled = compileAllowlist(tc.allowlist);
      assert.equal(compiled.absolute.size, tc.absolutes ?? 0);
      assert.equal(compiled.prefixes.length, tc.wildcards ?? 0);
      const got = requiresCredentialVerification(
        "NeverVerifyAllowlistedImages",
        "test.io/test/test-image:tag",
        tc.recordsExist ?? false,
        compiled,
      );
      assert.equal(got, tc.want);
      assert.equal(
        requiresCredentialVerification(
          "NeverVerifyAllowlistedImages",
          "test.io/test/test-image:tag",
          tc.recordsExist ?? false,
          tc.allowlist,
        ),
        tc.want,
      );
    });
  }
});

describe("allowlist matching and validation (§6.3, PR #137629)", () => {
  it("normalizes the pod image before comparing", () => {
    const list = ["docker.io/library/nginx", "registry.example.com/team/*"];
    assert.equal(matchesAllowlist("nginx", list), true);
    assert.equal(matchesAllowlist("nginx:1.25", list), true);
    assert.equal(matchesAllowlist("docker.io/library/nginx:1.25", list), true);
    assert.equal(
      matchesAllowlist(`nginx@sha256:${"a".repeat(64)}`, list),
      true,
      "a digest is removed too",
    );
    assert.equal(matchesAllowlist("library/nginx", list), true);
    assert.equal(matchesAllowlist("redis", list), false);
    assert.equal(matchesAllowlist("registry.example.com/team/app:v1", list), true);
    assert.equal(
      matchesAllowlist("registry.example.com/teammate/app", list),
      false,
      "prefix is per segment",
    );
    assert.equal(matchesAllowlist("registry.example.com/team", list), false);
    assert.equal(matchesAllowlist("docker.io/library/*", []), false);
    assert.equal(matchesAllowlist("alpine", ["docker.io/library/*"]), true);
  });

  it("an image that does not parse matches nothing (so it is verified)", () => {
    assert.equal(matchesAllowlist("Nginx", ["docker.io/library/nginx", "docker.io/*"]), false);
    assert.equal(
      requiresCredentialVerification("NeverVerifyAllowlistedImages", "Nginx", false, [
        "docker.io/*",
      ]),
      true,
    );
  });

  it("kubelet-pulled and allowlisted: no verification (upstream test, spec pitfall 9)", () => {
    assert.equal(
      requiresCredentialVerification("NeverVerifyAllowlistedImages", "nginx", true, [
        "docker.io/library/nginx",
      ]),
      false,
    );
  });

  it("familiar names are refused as entries, with upstream's (misleading) message", () => {
    assert.equal(
      allowlistPatternError("nginx"),
      "neither tag nor digest is accepted in an image reference: nginx",
    );
    assert.equal(allowlistPatternError("docker.io/library/nginx"), undefined);
    assert.equal(allowlistPatternError("docker.io/*"), undefined);
    assert.equal(
      allowlistPatternError(" docker.io/*"),
      "leading/trailing spaces are not allowed:  docker.io/*",
    );
    assert.equal(
      allowlistPatternError("docker.io/library/Nginx"),
      "failed to parse as an image name: invalid reference format: repository name (library/Nginx) must be lowercase",
    );
  });

  it("validateAllowlist reports the first invalid pattern as ValidateKubeletConfiguration does", () => {
    assert.deepEqual(validateAllowlist(["docker.io/library/nginx", "docker.io/*"]), []);
    assert.deepEqual(validateAllowlist(["docker.io/library/nginx", "*", "x:1"]), [
      "invalid configuration: invalid image pattern in `preloadedImagesVerificationAllowlist`: not a valid wildcard pattern, only patterns ending with '/*' are allowed: *",
    ]);
  });

  it("validateCredentialVerificationConfig: the gate-on block of validation.go", () => {
    assert.deepEqual(
      validateCredentialVerificationConfig("NeverVerifyPreloadedImages", undefined),
      [],
    );
    assert.deepEqual(
      validateCredentialVerificationConfig("NeverVerifyAllowlistedImages", ["docker.io/*"]),
      [],
    );
    assert.deepEqual(validateCredentialVerificationConfig("Sometimes", []), [
      'invalid configuration: option "Sometimes" specified for imagePullCredentialsVerificationPolicy. Valid options are "NeverVerify", "NeverVerifyPreloadedImages", "NeverVerifyAllowlistedImages" or "AlwaysVerify"',
    ]);
    assert.deepEqual(validateCredentialVerificationConfig("AlwaysVerify", ["docker.io/*"]), [
      'invalid configuration: can\'t set `preloadedImagesVerificationAllowlist` if `imagePullCredentialsVertificationPolicy` is not "NeverVerifyAllowlistedImages"',
    ]);
    assert.deepEqual(validateCredentialVerificationConfig("NeverVerifyAllowlistedImages", ["/*"]), [
      "invalid configuration: invalid image pattern in `preloadedImagesVerificationAllowlist`: at least registry hostname is required",
    ]);
  });
});

// Test_pulledRecordMergeNewCreds
const TEST_RECORD: ImagePulledRecord = {
  imageRef: "testImageRef",
  lastUpdatedTime: "2022-02-22T12:00:00Z",
  credentialMapping: {
    "test-image1": {
      kubernetesSecrets: [
        { uid: "uid1", namespace: "namespace1", name: "name1", credentialHash: "hash1" },
      ],
    },
    "test-image2": {
      kubernetesSecrets: [
        { uid: "uid1", namespace: "namespace1", name: "name1", credentialHash: "hash1" },
        { uid: "uid2", namespace: "namespace2", name: "name2", credentialHash: "hash2" },
      ],
    },
    "test-nodewide": { nodePodsAccessible: true },
  },
};

function withImageRecord(repo: string, creds: ImagePullCredentials): ImagePulledRecord {
  return {
    ...TEST_RECORD,
    lastUpdatedTime: NOW_TEXT,
    credentialMapping: { ...TEST_RECORD.credentialMapping, [repo]: creds },
  };
}

describe("merging credentials (Test_pulledRecordMergeNewCreds)", () => {
  const cases: {
    name: string;
    image: string;
    creds: ImagePullCredentials | undefined;
    want: ImagePulledRecord;
    wantUpdate: boolean;
  }[] = [
    {
      name: "create a new image record",
      image: "new-image",
      creds: {
        kubernetesSecrets: [
          { uid: "newuid", namespace: "newnamespace", name: "newname", credentialHash: "newhash" },
        ],
      },
      want: withImageRecord("new-image", {
        kubernetesSecrets: [
          { uid: "newuid", namespace: "newnamespace", name: "newname", credentialHash: "newhash" },
        ],
      }),
      wantUpdate: true,
    },
    {
      name: "merge with an existing image secret",
      image: "test-image1",
      creds: {
        kubernetesSecrets: [
          { uid: "newuid", namespace: "newnamespace", name: "newname", credentialHash: "newhash" },
        ],
      },
      want: withImageRecord("test-image1", {
        kubernetesSecrets: [
          { uid: "uid1", namespace: "namespace1", name: "name1", credentialHash: "hash1" },
          { uid: "newuid", namespace: "newnamespace", name: "newname", credentialHash: "newhash" },
        ],
      }),
      wantUpdate: true,
    },
    {
      name: "merge with existing image record secrets",
      image: "test-image2",
      creds: {
        kubernetesSecrets: [
          { uid: "newuid", namespace: "namespace1", name: "newname", credentialHash: "newhash" },
        ],
      },
      want: withImageRecord("test-image2", {
        kubernetesSecrets: [
          { uid: "uid1", namespace: "namespace1", name: "name1", credentialHash: "hash1" },
          { uid: "newuid", namespace: "namespace1", name: "newname", credentialHash: "newhash" },
          { uid: "uid2", namespace: "namespace2", name: "name2", credentialHash: "hash2" },
        ],
      }),
      wantUpdate: true,
    },
    {
      name: "node-accessible overrides all secrets",
      image: "test-image2",
      creds: { nodePodsAccessible: true },
      want: withImageRecord("test-image2", { nodePodsAccessible: true }),
      wantUpdate: true,
    },
    {
      name: "new creds have the same secret coordinates but a different hash",
      image: "test-image2",
      creds: {
        kubernetesSecrets: [
          { uid: "uid2", namespace: "namespace2", name: "name2", credentialHash: "newhash" },
        ],
      },
      want: withImageRecord("test-image2", {
        kubernetesSecrets: [
          { uid: "uid1", namespace: "namespace1", name: "name1", credentialHash: "hash1" },
          { uid: "uid2", namespace: "namespace2", name: "name2", credentialHash: "newhash" },
        ],
      }),
      wantUpdate: true,
    },
    {
      name: "new creds have the same hash but a different coordinates",
      image: "test-image2",
      creds: {
        kubernetesSecrets: [
          { uid: "uid3", namespace: "namespace2", name: "name3", credentialHash: "hash2" },
        ],
      },
      want: withImageRecord("test-image2", {
        kubernetesSecrets: [
          { uid: "uid1", namespace: "namespace1", name: "name1", credentialHash: "hash1" },
          { uid: "uid2", namespace: "namespace2", name: "name2", credentialHash: "hash2" },
          { uid: "uid3", namespace: "namespace2", name: "name3", credentialHash: "hash2" },
        ],
      }),
      wantUpdate: true,
    },
    // beyond upstream's table: the no-change paths of pulledRecordMergeNewCreds
    {
      name: "nil creds",
      image: "test-image1",
      creds: undefined,
      want: TEST_RECORD,
      wantUpdate: false,
    },
    { name: "empty creds", image: "test-image1", creds: {}, want: TEST_RECORD, wantUpdate: false },
    {
      name: "node-accessible entry stays as it is",
      image: "test-nodewide",
      creds: { kubernetesSecrets: [{ uid: "u", namespace: "n", name: "s", credentialHash: "h" }] },
      want: TEST_RECORD,
      wantUpdate: false,
    },
    {
      name: "secret already recorded with that hash",
      image: "test-image2",
      creds: {
        kubernetesSecrets: [
          { uid: "uid2", namespace: "namespace2", name: "name2", credentialHash: "hash2" },
        ],
      },
      want: TEST_RECORD,
      wantUpdate: false,
    },
    {
      name: "service accounts are added, sorted, once",
      image: "test-image1",
      creds: { kubernetesServiceAccounts: [{ uid: "sa1", namespace: "a", name: "default" }] },
      want: withImageRecord("test-image1", {
        kubernetesSecrets: [
          { uid: "uid1", namespace: "namespace1", name: "name1", credentialHash: "hash1" },
        ],
        kubernetesServiceAccounts: [{ uid: "sa1", namespace: "a", name: "default" }],
      }),
      wantUpdate: true,
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const got = mergePulledRecord(TEST_RECORD, tc.image, tc.creds, NOW);
      assert.equal(got.changed, tc.wantUpdate);
      assert.deepEqual(got.record, tc.want);
      if (!tc.wantUpdate)
        assert.equal(got.record, TEST_RECORD, "unchanged record is returned as is");
    });
  }

  it("service accounts merge as a sorted set", () => {
    let rec: ImagePulledRecord = {
      imageRef: "r",
      lastUpdatedTime: NOW_TEXT,
      credentialMapping: {},
    };
    for (const sa of [
      { uid: "2", namespace: "b", name: "x" },
      { uid: "1", namespace: "a", name: "y" },
      { uid: "2", namespace: "b", name: "x" },
      { uid: "0", namespace: "a", name: "y" },
    ]) {
      rec = mergePulledRecord(rec, "repo", { kubernetesServiceAccounts: [sa] }, NOW).record;
    }
    assert.deepEqual(rec.credentialMapping.repo?.kubernetesServiceAccounts, [
      { uid: "0", namespace: "a", name: "y" },
      { uid: "1", namespace: "a", name: "y" },
      { uid: "2", namespace: "b", name: "x" },
    ]);
  });
});

const POD_SECRET = {
  uid: "testsecretuid",
  namespace: "default",
  name: "pull-secret",
  credentialHash: "testsecrethash",
} as const;

describe("mustAttemptImagePull (TestFileBasedImagePullManager_MustAttemptImagePull)", () => {
  const cases: {
    name: string;
    policy: ImagePullCredentialsVerificationPolicy;
    podSecrets?: ImagePullSecret[];
    image: string;
    imageRef: string;
    pulledFiles?: string[];
    pullingFiles?: string[];
    want: boolean;
  }[] = [
    {
      name: "image exists and is recorded with pod's exact secret",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [POD_SECRET],
      image: "docker.io/testing/test:latest",
      imageRef: "testimageref",
      pulledFiles: ["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
      want: false,
    },
    {
      name: "image exists and is recorded, no pod secrets",
      policy: "NeverVerifyPreloadedImages",
      image: "docker.io/testing/test:latest",
      imageRef: "testimageref",
      pulledFiles: ["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
      want: true,
    },
    {
      name: "image exists and is recorded with the same secret but different credential hash",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [{ ...POD_SECRET, credentialHash: "differenthash" }],
      image: "docker.io/testing/test:latest",
      imageRef: "testimageref",
      pulledFiles: ["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
      want: false,
    },
    {
      name: "image exists and is recorded with a different secret with a different UID",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [{ ...POD_SECRET, uid: "different uid", credentialHash: "differenthash" }],
      image: "docker.io/testing/test:latest",
      imageRef: "testimageref",
      pulledFiles: ["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
      want: true,
    },
    {
      name: "image exists and is recorded with a different secret",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [{ ...POD_SECRET, namespace: "differentns", credentialHash: "differenthash" }],
      image: "docker.io/testing/test:latest",
      imageRef: "testimageref",
      pulledFiles: ["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
      want: true,
    },
    {
      name: "image exists and is recorded with a different secret with the same credential hash",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [{ ...POD_SECRET, namespace: "differentns" }],
      image: "docker.io/testing/test:latest",
      imageRef: "testimageref",
      pulledFiles: ["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
      want: false,
    },
    {
      name: "image exists but the pull is recorded with a different image name but with the exact same secret",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [POD_SECRET],
      image: "docker.io/testing/different:latest",
      imageRef: "testimageref",
      pulledFiles: ["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
      want: true,
    },
    {
      name: "image exists and is recorded with empty credential mapping",
      policy: "NeverVerifyPreloadedImages",
      image: "docker.io/testing/test:latest",
      imageRef: "testemptycredmapping",
      pulledFiles: ["sha256-f8778b6393eaf39315e767a58cbeacf2c4b270d94b4d6926ee993d9e49444991"],
      want: true,
    },
    {
      name: "image does not exist and there are no records of it",
      policy: "NeverVerifyPreloadedImages",
      image: "docker.io/testing/test:latest",
      imageRef: "",
      want: true,
    },
    {
      name: "image exists and there are no records of it with NeverVerifyPreloadedImages pull policy",
      policy: "NeverVerifyPreloadedImages",
      image: "docker.io/testing/test:latest",
      imageRef: "testexistingref",
      want: false,
    },
    {
      name: "image exists and there are no records of it with AlwaysVerify pull policy",
      policy: "AlwaysVerify",
      image: "docker.io/testing/test:latest",
      imageRef: "testexistingref",
      want: true,
    },
    {
      name: "image exists but is only recorded via pulling intent",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [POD_SECRET],
      image: "docker.io/testing/test:latest",
      imageRef: "testexistingref",
      pullingFiles: ["sha256-aef2af226629a35d5f3ef0fdbb29fdbebf038d0acd8850590e8c48e1e283aa56"],
      want: true,
    },
    {
      name: "image exists but is only recorded via pulling intent - NeverVerify policy",
      policy: "NeverVerify",
      podSecrets: [POD_SECRET],
      image: "docker.io/testing/test:latest",
      imageRef: "testexistingref",
      pullingFiles: ["sha256-aef2af226629a35d5f3ef0fdbb29fdbebf038d0acd8850590e8c48e1e283aa56"],
      want: false,
    },
    {
      name: "image exists and is recorded as node-accessible, no pod secrets",
      policy: "NeverVerifyPreloadedImages",
      image: "docker.io/testing/test:latest",
      imageRef: "testimage-anonpull",
      pulledFiles: ["sha256-a2eace2182b24cdbbb730798e47b10709b9ef5e0f0c1624a3bc06c8ca987727a"],
      want: false,
    },
    {
      name: "image exists and is recorded as node-accessible, request with pod secrets",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [POD_SECRET],
      image: "docker.io/testing/test:latest",
      imageRef: "testimage-anonpull",
      pulledFiles: ["sha256-a2eace2182b24cdbbb730798e47b10709b9ef5e0f0c1624a3bc06c8ca987727a"],
      want: false,
    },
    {
      name: "image exists and is recorded with empty hash as its hashing originally failed, the same fail for a different pod secret",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [{ ...POD_SECRET, namespace: "differentns", credentialHash: "" }],
      image: "docker.io/testing/test:latest",
      imageRef: "test-brokenhash",
      pulledFiles: ["sha256-38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd"],
      want: true,
    },
    {
      name: "image exists and is recorded with empty hash as its hashing originally failed, the same fail for the same pod secret",
      policy: "NeverVerifyPreloadedImages",
      podSecrets: [{ ...POD_SECRET, credentialHash: "" }],
      image: "docker.io/testing/test:latest",
      imageRef: "test-brokenhash",
      pulledFiles: ["sha256-38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd"],
      want: false,
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      // The fs accessor: records are found by the file named after the key's hash.
      const pulled = new Set(tc.pulledFiles ?? []);
      const pulling = new Set(tc.pullingFiles ?? []);
      const file = sha(tc.imageRef);
      const text = pulled.has(file) ? PULLED_FILES[file] : undefined;
      const intentFile = sha(tc.image);
      const intentExists =
        pulling.has(intentFile) && decodePullIntent(PULLING_FILES[intentFile]).image === tc.image;
      const d = mustAttemptImagePull({
        image: tc.image,
        imageRef: tc.imageRef,
        pulledRecord: text === undefined ? undefined : decodePulledRecord(text),
        intentExists,
        podCredentials: { secrets: tc.podSecrets ?? [] },
        policy: tc.policy,
        now: NOW,
      });
      assert.equal(d.pull, tc.want, d.reason);
    });
  }
});

describe("mustAttemptImagePull: the rest of §6.2", () => {
  const record = decodePulledRecord(
    PULLED_FILES["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
  );
  const base = {
    image: "docker.io/testing/test:latest",
    imageRef: "testimageref",
    pulledRecord: record,
    intentExists: false,
    policy: "NeverVerifyPreloadedImages" as const,
    now: NOW,
  };

  it("a hash-only match merges the pod's secret into the record", () => {
    const other = { ...POD_SECRET, uid: "u2", namespace: "tenant-b", name: "copy" };
    const d = mustAttemptImagePull({ ...base, podCredentials: { secrets: [other] } });
    assert.equal(d.pull, false);
    assert.equal(d.result, "credentialRecordFound");
    assert.deepEqual(
      d.updatedRecord?.credentialMapping["docker.io/testing/test"]?.kubernetesSecrets,
      [POD_SECRET, other],
    );
    assert.equal(d.updatedRecord?.lastUpdatedTime, NOW_TEXT);
  });

  it("a coordinates-only match (rotated secret) updates the recorded hash", () => {
    const rotated = { ...POD_SECRET, credentialHash: "rotated" };
    const d = mustAttemptImagePull({ ...base, podCredentials: { secrets: [rotated] } });
    assert.equal(d.pull, false);
    assert.deepEqual(
      d.updatedRecord?.credentialMapping["docker.io/testing/test"]?.kubernetesSecrets,
      [rotated],
    );
  });

  it("an exact match writes nothing", () => {
    const d = mustAttemptImagePull({ ...base, podCredentials: { secrets: [POD_SECRET] } });
    assert.equal(d.pull, false);
    assert.equal(d.updatedRecord, undefined);
  });

  it("with 100 cached secrets: hash match still allowed without a write; coordinates-only match pulls", () => {
    const secrets: ImagePullSecret[] = Array.from({ length: 100 }, (_, i) => ({
      uid: `uid${String(i).padStart(3, "0")}`,
      namespace: "ns",
      name: `s${String(i).padStart(3, "0")}`,
      credentialHash: `hash${i}`,
    }));
    const full: ImagePulledRecord = {
      ...record,
      credentialMapping: { "docker.io/testing/test": { kubernetesSecrets: secrets } },
    };
    const byHash = mustAttemptImagePull({
      ...base,
      pulledRecord: full,
      podCredentials: {
        secrets: [{ uid: "x", namespace: "other", name: "y", credentialHash: "hash7" }],
      },
    });
    assert.equal(byHash.pull, false);
    assert.equal(byHash.updatedRecord, undefined);
    const byCoords = mustAttemptImagePull({
      ...base,
      pulledRecord: full,
      podCredentials: {
        secrets: [{ ...(secrets[7] as ImagePullSecret), credentialHash: "rotated" }],
      },
    });
    assert.equal(byCoords.pull, true, "upstream only accepts a coordinates match it can record");
    const at99 = mustAttemptImagePull({
      ...base,
      pulledRecord: {
        ...full,
        credentialMapping: {
          "docker.io/testing/test": { kubernetesSecrets: secrets.slice(0, 99) },
        },
      },
      podCredentials: {
        secrets: [{ ...(secrets[7] as ImagePullSecret), credentialHash: "rotated" }],
      },
    });
    assert.equal(at99.pull, false);
    assert.ok(at99.updatedRecord !== undefined);
  });

  it("service accounts match on (uid, namespace, name)", () => {
    const saRecord: ImagePulledRecord = {
      ...record,
      credentialMapping: {
        "docker.io/testing/test": {
          kubernetesServiceAccounts: [{ uid: "sa-uid", namespace: "team", name: "builder" }],
        },
      },
    };
    const ok = mustAttemptImagePull({
      ...base,
      pulledRecord: saRecord,
      podCredentials: {
        secrets: [],
        serviceAccount: { uid: "sa-uid", namespace: "team", name: "builder" },
      },
    });
    assert.equal(ok.pull, false);
    assert.equal(ok.updatedRecord, undefined);
    const recreated = mustAttemptImagePull({
      ...base,
      pulledRecord: saRecord,
      podCredentials: {
        secrets: [],
        serviceAccount: { uid: "new-uid", namespace: "team", name: "builder" },
      },
    });
    assert.equal(recreated.pull, true);
  });

  it("pod credentials are only computed when needed; their error propagates", () => {
    let calls = 0;
    const creds = () => {
      calls++;
      return { secrets: [POD_SECRET] };
    };
    mustAttemptImagePull({ ...base, imageRef: "", podCredentials: creds });
    mustAttemptImagePull({ ...base, policy: "NeverVerify", podCredentials: creds });
    mustAttemptImagePull({
      ...base,
      pulledRecord: undefined,
      policy: "AlwaysVerify",
      podCredentials: creds,
    });
    assert.equal(calls, 0);
    assert.equal(mustAttemptImagePull({ ...base, podCredentials: creds }).pull, false);
    assert.equal(calls, 1);
    assert.throws(
      () =>
        mustAttemptImagePull({
          ...base,
          podCredentials: () => {
            throw new Error("bad secret");
          },
        }),
      /bad secret/,
    );
  });

  it("a record for another imageRef counts as none; read errors mean pull", () => {
    const d = mustAttemptImagePull({
      ...base,
      imageRef: "other",
      podCredentials: { secrets: [POD_SECRET] },
    });
    assert.equal(
      d.pull,
      false,
      "not pulled by the kubelet → preloaded → NeverVerifyPreloadedImages trusts it",
    );
    const e = mustAttemptImagePull({
      ...base,
      recordError: "not JSON",
      podCredentials: { secrets: [POD_SECRET] },
    });
    assert.equal(e.pull, true);
    assert.equal(e.result, "error");
  });

  it("familiar pod images use the normalized repository key", () => {
    const rec = recordSuccessfulPull(undefined, {
      imageRef: "sha256:abc",
      image: "nginx",
      credential: { kind: "secret", ...POD_SECRET },
      now: NOW,
    }).record;
    assert.deepEqual(Object.keys(rec.credentialMapping), ["docker.io/library/nginx"]);
    const d = mustAttemptImagePull({
      ...base,
      image: "docker.io/library/nginx:1.25",
      imageRef: "sha256:abc",
      pulledRecord: rec,
      podCredentials: { secrets: [POD_SECRET] },
    });
    assert.equal(d.pull, false);
  });
});

describe("recordSuccessfulPull (TestFileBasedImagePullManager_RecordImagePulled)", () => {
  const existing = (...files: string[]) => files.map((f) => decodePulledRecord(PULLED_FILES[f]));
  const B3 = "sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064";
  const cases: {
    name: string;
    image: string;
    credential: PullCredentialUsed;
    existing: ImagePulledRecord[];
    want: Omit<ImagePulledRecord, "lastUpdatedTime">;
    wantUpdated: boolean;
  }[] = [
    {
      name: "new pull record",
      image: "repo.repo/test/test:v1",
      credential: { kind: "node" },
      existing: [],
      want: {
        imageRef: "testimageref",
        credentialMapping: { "repo.repo/test/test": { nodePodsAccessible: true } },
      },
      wantUpdated: true,
    },
    {
      name: "merge into existing record",
      image: "repo.repo/test/test:v1",
      credential: { kind: "node" },
      existing: existing(B3),
      want: {
        imageRef: "testimageref",
        credentialMapping: {
          "repo.repo/test/test": { nodePodsAccessible: true },
          "docker.io/testing/test": { kubernetesSecrets: [POD_SECRET] },
        },
      },
      wantUpdated: true,
    },
    {
      name: "merge into existing record - existing key in creds mapping",
      image: "docker.io/testing/test:something",
      credential: {
        kind: "secret",
        uid: "newuid",
        namespace: "newns",
        name: "newname",
        credentialHash: "somehash",
      },
      existing: existing(B3),
      want: {
        imageRef: "testimageref",
        credentialMapping: {
          "docker.io/testing/test": {
            kubernetesSecrets: [
              POD_SECRET,
              { uid: "newuid", namespace: "newns", name: "newname", credentialHash: "somehash" },
            ],
          },
        },
      },
      wantUpdated: true,
    },
    {
      name: "existing record stays unchanged",
      image: "docker.io/testing/test:something",
      credential: { kind: "secret", ...POD_SECRET },
      existing: existing(B3),
      want: {
        imageRef: "testimageref",
        credentialMapping: { "docker.io/testing/test": { kubernetesSecrets: [POD_SECRET] } },
      },
      wantUpdated: false,
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const current = tc.existing.find((r) => r.imageRef === "testimageref");
      const got = recordSuccessfulPull(current, {
        imageRef: "testimageref",
        image: tc.image,
        credential: tc.credential,
        now: NOW,
      });
      assert.equal(got.changed, tc.wantUpdated);
      assert.equal(got.record.lastUpdatedTime, tc.wantUpdated ? NOW_TEXT : "2024-10-21T12:26:40Z");
      const { lastUpdatedTime: _, ...rest } = got.record;
      assert.deepEqual(rest, tc.want);
    });
  }

  it("a pull with unknown credentials (startup intent) tracks the image without credentials", () => {
    const got = recordSuccessfulPull(undefined, {
      imageRef: "r",
      image: "repo.repo/test/test:v1",
      now: NOW,
    });
    assert.deepEqual(got, {
      changed: true,
      record: { imageRef: "r", lastUpdatedTime: NOW_TEXT, credentialMapping: {} },
    });
    const again = recordSuccessfulPull(got.record, {
      imageRef: "r",
      image: "repo.repo/test/test:v1",
      now: NOW + 5000,
    });
    assert.equal(again.changed, false);
    // …and such a record forces verification.
    const d = mustAttemptImagePull({
      image: "repo.repo/test/test:v1",
      imageRef: "r",
      pulledRecord: got.record,
      intentExists: false,
      podCredentials: { secrets: [] },
      policy: "NeverVerifyPreloadedImages",
      now: NOW,
    });
    assert.equal(d.pull, true);
  });

  it("a service-account pull records the service account", () => {
    const got = recordSuccessfulPull(undefined, {
      imageRef: "r",
      image: "registry.example.com/app",
      credential: { kind: "serviceAccount", uid: "u", namespace: "ns", name: "sa" },
      now: NOW_TEXT,
    });
    assert.deepEqual(got.record.credentialMapping, {
      "registry.example.com/app": {
        kubernetesServiceAccounts: [{ uid: "u", namespace: "ns", name: "sa" }],
      },
    });
  });

  it("an unparsable image: upstream's error, nothing recorded", () => {
    assert.throws(
      () => recordSuccessfulPull(undefined, { imageRef: "r", image: "Nginx", now: NOW }),
      {
        code: "INPUT_INVALID",
        message:
          'invalid image name "Nginx": couldn\'t parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase',
      },
    );
  });
});

describe("records on disk (JSON boundary)", () => {
  it("writes v1beta1 byte for byte as the kubelet does", () => {
    const rec = decodePulledRecord(
      PULLED_FILES["sha256-a2eace2182b24cdbbb730798e47b10709b9ef5e0f0c1624a3bc06c8ca987727a"],
    );
    assert.equal(
      goJSON(encodePulledRecord(rec)),
      `${PULLED_FILES["sha256-a2eace2182b24cdbbb730798e47b10709b9ef5e0f0c1624a3bc06c8ca987727a"]}\n`,
    );
    const b3 = decodePulledRecord(
      PULLED_FILES["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"],
    );
    assert.equal(
      goJSON(encodePulledRecord(b3)),
      `${(PULLED_FILES["sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064"] as string).replace("v1alpha1", "v1beta1")}\n`,
    );
    const empty = decodePulledRecord(
      PULLED_FILES["sha256-f8778b6393eaf39315e767a58cbeacf2c4b270d94b4d6926ee993d9e49444991"],
    );
    assert.deepEqual(empty.credentialMapping, {});
    assert.equal(
      goJSON(encodePulledRecord(empty)),
      '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"testemptycredmapping"}\n',
    );
    assert.equal(
      goJSON(encodePullIntent({ image: "repo.repo/test/test:latest" })),
      '{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"repo.repo/test/test:latest"}\n',
    );
  });

  it("upstream's fixture file names are sha256 of the keys", () => {
    assert.equal(
      sha("testimageref"),
      "sha256-b3c0cc4278800b03a308ceb2611161430df571ca733122f0a40ac8b9792a9064",
    );
    assert.equal(
      sha("docker.io/testing/test:latest"),
      "sha256-aef2af226629a35d5f3ef0fdbb29fdbebf038d0acd8850590e8c48e1e283aa56",
    );
    assert.equal(
      sha("repo.repo/test/test:latest"),
      "sha256-7d8c031e2f1aeaa71649ca3e0b64c9902370ed460ef57fb07582a87a5a1e1c02",
    );
  });

  it("sorts mapping keys and escapes HTML as Go does", () => {
    const rec: ImagePulledRecord = {
      imageRef: "a<b>&",
      lastUpdatedTime: NOW_TEXT,
      credentialMapping: Object.fromEntries([
        ["z.io/b", { nodePodsAccessible: true }],
        ["a.io/b", { kubernetesSecrets: [], nodePodsAccessible: false }],
      ]),
    };
    assert.equal(
      goJSON(encodePulledRecord(rec)),
      '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-11-28T02:00:00Z","imageRef":"a\\u003cb\\u003e\\u0026","credentialMapping":{"a.io/b":{},"z.io/b":{"nodePodsAccessible":true}}}\n',
    );
    assert.deepEqual(
      decodePulledRecord(JSON.parse(goJSON(encodePulledRecord(rec)))).imageRef,
      "a<b>&",
    );
  });

  const bad: [string, unknown, RegExp][] = [
    ["not JSON", "{", /pulled record: not valid JSON/],
    ["not an object", "[]", /not a JSON object/],
    [
      "wrong kind",
      { kind: "ImagePullIntent", apiVersion: "kubelet.config.k8s.io/v1beta1" },
      /kind "ImagePullIntent" is not "ImagePulledRecord"/,
    ],
    [
      "unknown apiVersion",
      { kind: "ImagePulledRecord", apiVersion: "kubelet.config.k8s.io/v2" },
      /unsupported apiVersion/,
    ],
    [
      "unknown field (strict)",
      { kind: "ImagePulledRecord", apiVersion: "kubelet.config.k8s.io/v1beta1", extra: 1 },
      /unknown field "extra"/,
    ],
    [
      "v1alpha1's old kubernetesSecretCoordinates (strict decoding rejects it)",
      {
        kind: "ImagePulledRecord",
        apiVersion: "kubelet.config.k8s.io/v1alpha1",
        imageRef: "r",
        credentialMapping: { "docker.io/a/b": { kubernetesSecretCoordinates: [] } },
      },
      /unknown field "kubernetesSecretCoordinates"/,
    ],
    [
      "bad time",
      {
        kind: "ImagePulledRecord",
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        lastUpdatedTime: "yesterday",
      },
      /not RFC 3339/,
    ],
    [
      "bad secret entry",
      {
        kind: "ImagePulledRecord",
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        credentialMapping: { r: { kubernetesSecrets: [{ uid: 1 }] } },
      },
      /uid is not a string/,
    ],
    [
      "bad flag",
      {
        kind: "ImagePulledRecord",
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        credentialMapping: { r: { nodePodsAccessible: "yes" } },
      },
      /nodePodsAccessible is not a boolean/,
    ],
  ];
  for (const [name, input, re] of bad) {
    it(`rejects: ${name}`, () => {
      assert.throws(
        () => decodePulledRecord(input),
        (e: unknown) => {
          assert.equal((e as { code?: string }).code, "STORE_CORRUPT");
          assert.match((e as Error).message, re);
          return true;
        },
      );
    });
  }

  it("__proto__ as a mapping key stays data", () => {
    const rec = decodePulledRecord(
      '{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","credentialMapping":{"__proto__":{"nodePodsAccessible":true}}}',
    );
    assert.ok(Object.hasOwn(rec.credentialMapping, "__proto__"));
    assert.equal(Object.getPrototypeOf(rec.credentialMapping), Object.prototype);
  });

  it("intents", () => {
    assert.deepEqual(
      decodePullIntent(
        PULLING_FILES["sha256-aef2af226629a35d5f3ef0fdbb29fdbebf038d0acd8850590e8c48e1e283aa56"],
      ),
      {
        image: "docker.io/testing/test:latest",
      },
    );
    assert.throws(
      () => decodePullIntent({ kind: "ImagePullIntent", apiVersion: "v1", image: "x" }),
      { code: "STORE_CORRUPT" },
    );
  });

  it("times: metav1.Time's RFC 3339 at whole seconds, UTC", () => {
    assert.equal(formatRecordTime(NOW), NOW_TEXT);
    assert.equal(parseRecordTime("2024-10-21T12:26:40Z"), Date.UTC(2024, 9, 21, 12, 26, 40));
    assert.equal(
      parseRecordTime("2024-10-21T14:26:40.5+02:00"),
      Date.UTC(2024, 9, 21, 12, 26, 40, 500),
    );
    assert.equal(parseRecordTime("2024-10-21 12:26:40Z"), undefined);
    const rec = decodePulledRecord({
      kind: "ImagePulledRecord",
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      lastUpdatedTime: "2024-10-21T14:26:40.9+02:00",
      imageRef: "r",
    });
    assert.equal(rec.lastUpdatedTime, "2024-10-21T12:26:40Z");
  });
});

describe("PruneUnknownRecords", () => {
  const rec = (ref: string, time: string): ImagePulledRecord => ({
    imageRef: ref,
    lastUpdatedTime: time,
    credentialMapping: {},
  });
  const gcStart = Date.UTC(2026, 0, 1, 0, 0, 0);
  it("deletes records of vanished images updated before the GC began", () => {
    const onNode = new Set(["kept"]);
    assert.equal(shouldPruneRecord(rec("gone", "2025-12-31T23:59:59Z"), onNode, gcStart), true);
    assert.equal(shouldPruneRecord(rec("kept", "2025-12-31T23:59:59Z"), onNode, gcStart), false);
    assert.equal(
      shouldPruneRecord(rec("gone", "2026-01-01T00:00:00Z"), onNode, gcStart),
      false,
      "not Before(until)",
    );
  });
});
