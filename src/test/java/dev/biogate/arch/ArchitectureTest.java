package dev.biogate.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package graph of the production code stays acyclic, and the layers point one way: wiring
 * ({@code dev.biogate}) knows every package; the leaf packages ({@code http}, {@code crypto}, {@code config}) know
 * none of the feature packages. A new edge that closes a cycle fails here, naming the classes on it.
 */
class ArchitectureTest {

  private static JavaClasses production;

  @BeforeAll
  static void importClasses() {
    production = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.biogate");
  }

  @Test
  void featurePackagesAreFreeOfCycles() {
    slices().matching("dev.biogate.(*)..").should().beFreeOfCycles().check(production);
  }

  @Test
  void leafPackagesDependOnNoFeaturePackage() {
    noClasses().that().resideInAnyPackage("dev.biogate.http..", "dev.biogate.crypto..", "dev.biogate.config..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.biogate.profile..", "dev.biogate.upstream..",
        "dev.biogate.webhook..", "dev.biogate.events..", "dev.biogate.analytics..", "dev.biogate.sink..",
        "dev.biogate.ops..", "dev.biogate.stream..", "dev.biogate.sandbox..")
      .check(production);
  }

  @Test
  void onlyTheWiringPackageDependsOnIt() {
    noClasses().that().resideOutsideOfPackage("dev.biogate")
      .should().dependOnClassesThat().resideInAPackage("dev.biogate")
      .check(production);
  }
}
